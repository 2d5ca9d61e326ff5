/** Apps and members rendered once: handed out again only while they are what was rendered. */
import { describe, expect, it } from 'vitest';
import { MemoAppRenderer } from '../../../../src/http/read-cache/app-json.js';
import { MemoMemberRenderer } from '../../../../src/http/read-cache/member-json.js';
import type { App } from '../../../../src/domain/app.js';
import type { RenderedMember } from '../../../../src/jsonapi/include.js';
import type { RawJson } from '../../../../src/jsonapi/raw-json.js';

const app = (id: string, name = `App ${id}`): App => ({
  id,
  name,
  bundleId: `com.example.${id}`,
  sku: `SKU-${id}`,
  primaryLocale: 'en-US',
});

describe('MemoAppRenderer', () => {
  it('renders an app once while every field stays the same, and anew when one changes', () => {
    let renders = 0;
    const memo = new MemoAppRenderer({
      render: (a) => {
        renders++;
        return { type: 'apps', id: a.id, attributes: { name: a.name }, links: { self: '' } };
      },
    });
    const first = memo.render(app('1'), undefined);
    expect(memo.render(app('1'), undefined)).toBe(first);
    expect(renders).toBe(1);
    const renamed = memo.render(app('1', 'Renamed'), undefined) as RawJson;
    expect(renamed).not.toBe(first);
    expect(JSON.parse(renamed.bytes.toString())).toMatchObject({ attributes: { name: 'Renamed' } });
    // a field more or less is another app too
    expect(memo.render({ ...app('1', 'Renamed'), extra: 1 } as App, undefined)).not.toBe(renamed);
    expect(renders).toBe(3);
    // sparse fieldsets are rendered each time
    memo.render(app('1'), ['name']);
    expect(renders).toBe(4);
  });

  it('keeps at most its capacity, the oldest out first', () => {
    const memo = new MemoAppRenderer({ render: (a) => ({ type: 'apps', id: a.id, links: { self: '' } }) }, 2);
    for (const id of ['1', '2', '3']) memo.render(app(id), undefined);
    expect(memo.size).toBe(2);
  });
});

describe('MemoMemberRenderer', () => {
  const inner = (count: { n: number }) => ({
    render: async (ids: readonly string[]) => {
      count.n += ids.length;
      return new Map<string, RenderedMember>(
        ids.map((id) => [id, { resource: { type: 'userInvitations', id, links: { self: '' } }, appIds: [] }]),
      );
    },
  });

  it('renders each member once per view, and only those not rendered yet', async () => {
    const count = { n: 0 };
    const memo = new MemoMemberRenderer(inner(count));
    const load = async () => [];
    const a = await memo.render(['a', 'b'], load, { fields: undefined, sliceLimit: 10 });
    const b = await memo.render(['b', 'c'], load, { fields: undefined, sliceLimit: 10 });
    expect(b.get('b')).toBe(a.get('b'));
    expect(count.n).toBe(3);
    await memo.render(['a'], load, { fields: undefined, sliceLimit: undefined });
    await memo.render(['a'], load, { fields: undefined, sliceLimit: 5 });
    expect(count.n).toBe(5);
    expect(memo.size).toBe(5);
    memo.clear();
    await memo.render(['a'], load, { fields: undefined, sliceLimit: 10 });
    expect(count.n).toBe(6);
  });

  it('keeps at most its capacity', async () => {
    const memo = new MemoMemberRenderer(inner({ n: 0 }), 3);
    await memo.render(['a', 'b', 'c', 'd', 'e'], async () => [], { fields: undefined, sliceLimit: 10 });
    await memo.render(['f'], async () => [], { fields: undefined, sliceLimit: undefined });
    expect(memo.size).toBe(3);
  });
});
