/**
 * Sandbox testers over the API (docs/behavior.md A19-A23, docs/parity.md "Sandbox testers"): the
 * list with its default and maximum page size, sparse fieldsets and cursors; who may read and
 * write; PATCH of the settings and its refusals; clear purchase history requests and what they
 * record; and the emails a tester shares with no team member, both ways. Every response is checked
 * against the spec by the harness.
 */
import { describe, expect, it } from 'vitest';
import { SandboxTestersRepository, type SandboxTesterRow } from '../../src/resources/sandbox-testers/repository.js';
import type { SandboxTester } from '../../src/resources/sandbox-testers/service.js';
import { uuidV7 } from '../../src/random.js';
import {
  apiError,
  entityError,
  errorBody,
  forbidden,
  illegalParameter,
  invalidParameter,
  methodNotAllowed,
  notFound,
  pathError,
  unprocessable,
  UUID,
} from '../helpers/api-errors.js';
import { runCli } from '../helpers/cli.js';
import { databaseEnv, invitationBody, PUBLIC_URL, useTestServer, type ApiResponse, type TestServer } from '../helpers/harness.js';
import { ids, local, walkIds } from '../helpers/paging.js';
import { sandboxTesterResource } from '../helpers/resources.js';
import { createUser, individualKey } from '../helpers/users.js';

const HOUR = 60 * 60 * 1000;
const LIST = '/v2/sandboxTesters';
const CLEAR = '/v2/sandboxTestersClearPurchaseHistoryRequest';

let seq = 0;
const email = (tag: string) => `${tag}.${++seq}@sandbox.example.com`;

async function newTester(s: TestServer, tag: string, territory = 'USA'): Promise<SandboxTester> {
  return s.services.sandboxTesters.create({ firstName: 'Anne', lastName: 'Johnson', email: email(tag), territory });
}

const patchBody = (id: string, attributes: Record<string, unknown>) => ({ data: { type: 'sandboxTesters', id, attributes } });

const clearBody = (...testerIds: string[]) => ({
  data: {
    type: 'sandboxTestersClearPurchaseHistoryRequest',
    relationships: { sandboxTesters: { data: testerIds.map((id) => ({ type: 'sandboxTesters', id })) } },
  },
});

/** How many testers' clear records the database holds. */
async function clearRecords(s: TestServer): Promise<number> {
  const row = await s.db.kysely
    .selectFrom('sandbox_clear_request_testers')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('GET /v2/sandboxTesters', () => {
  const s = useTestServer();

  it("lists no one at first, then every tester by id with Apple's default page of 50 (A20)", async () => {
    const empty = await s.call('GET', LIST);
    expect(empty.status, empty.text).toBe(200);
    expect(empty.body).toEqual({ data: [], links: { self: `${PUBLIC_URL}${LIST}` }, meta: { paging: { total: 0, limit: 50 } } });

    const made = [await newTester(s, 'a', 'CAN'), await newTester(s, 'b'), await newTester(s, 'c', 'GBR')];
    const r = await s.call('GET', LIST);
    expect(r.status, r.text).toBe(200);
    expect(r.body).toEqual({
      data: made.map((t) => sandboxTesterResource({ id: t.id, email: t.email, territory: t.territory })),
      links: { self: `${PUBLIC_URL}${LIST}` },
      meta: { paging: { total: 3, limit: 50 } },
    });
    expect(made.map((t) => t.id)).toEqual([...made.map((t) => t.id)].sort());
    for (const t of made) expect(t.id).toMatch(UUID);
  });

  it('pages with limit and cursor, and trims to a sparse fieldset', async () => {
    const first = await s.call('GET', `${LIST}?limit=2&fields[sandboxTesters]=territory,acAccountName`);
    expect(first.status, first.text).toBe(200);
    expect(first.body.meta.paging).toEqual({ total: 3, limit: 2 });
    expect(first.body.links.self).toBe(`${PUBLIC_URL}${LIST}?limit=2&fields%5BsandboxTesters%5D=territory%2CacAccountName`);
    for (const d of first.body.data) expect(Object.keys(d.attributes)).toEqual(['acAccountName', 'territory']);
    const next = new URL(first.body.links.next as string);
    expect([...next.searchParams.keys()]).toEqual(['cursor', 'limit', 'fields[sandboxTesters]']);
    const second = await s.call('GET', local(first.body.links.next as string));
    expect(second.status, second.text).toBe(200);
    expect(second.body.data).toHaveLength(1);
    expect(second.body.links.next).toBeUndefined();
    const all = await s.call('GET', LIST);
    expect([...ids(first), ...ids(second)]).toEqual(ids(all));
  });

  it('refuses a limit outside 1 to 200, parameters it does not take, and a cursor of another list', async () => {
    for (const limit of ['0', '201', 'x']) {
      const r = await s.call('GET', `${LIST}?limit=${limit}`);
      expect(r.status).toBe(400);
      expect(r.body).toEqual(
        errorBody(invalidParameter('limit', `The value '${limit}' is not valid for 'limit'; it must be an integer from 1 to 200`)),
      );
    }
    expect((await s.call('GET', `${LIST}?limit=200`)).status).toBe(200);
    for (const name of ['sort', 'include', 'filter[email]']) {
      const r = await s.call('GET', `${LIST}?${name}=x`);
      expect(r.status).toBe(400);
      expect(r.body).toEqual(errorBody(illegalParameter(name)));
    }
    const field = await s.call('GET', `${LIST}?fields[sandboxTesters]=password`);
    expect(field.body).toEqual(
      errorBody(invalidParameter('fields[sandboxTesters]', "'password' is not a valid field name for 'fields[sandboxTesters]'")),
    );
    await createUser(s, { email: email('user1') });
    await createUser(s, { email: email('user2') });
    const users = await s.call('GET', '/v1/users?limit=1');
    const foreign = new URL(users.body.links.next as string).searchParams.get('cursor')!;
    const r = await s.call('GET', `${LIST}?cursor=${encodeURIComponent(foreign)}`);
    expect(r.status).toBe(400);
    expect(r.body.errors[0]).toMatchObject({ code: 'PARAMETER_ERROR.INVALID', source: { parameter: 'cursor' } });
  });

  it('a tester is read by PATCH only: GET of one is 405, and the clear request has no path to read it', async () => {
    const t = await newTester(s, 'one');
    const one = await s.call('GET', `${LIST}/${t.id}`);
    expect(one.status).toBe(405);
    expect(one.body).toEqual(errorBody(methodNotAllowed()));
    const cleared = await s.call('POST', CLEAR, { body: clearBody(t.id) });
    expect(cleared.status, cleared.text).toBe(201);
    const path = local(cleared.headers.get('location')!);
    const read = await s.call('GET', path);
    expect(read.status).toBe(404);
    expect(read.body).toEqual(errorBody(pathError(path)));
  });

  it('shows a tester made or deleted by the operator CLI (another connection) at once', async () => {
    const before = ids(await s.call('GET', `${LIST}?limit=200`));
    const env = databaseEnv(s.config);
    const made = await runCli(
      ['sandbox-testers', 'create', '--first-name', 'Cli', '--last-name', 'Made', '--email', email('cli'), '--territory', 'fra', '--json'],
      env,
    );
    expect(made.code, made.stderr).toBe(0);
    const id = (JSON.parse(made.stdout) as { id: string }).id;
    const after = await s.call('GET', `${LIST}?limit=200`);
    expect(ids(after)).toEqual([...before, id]);
    expect(after.body.data.at(-1).attributes).toMatchObject({ firstName: 'Cli', lastName: 'Made', territory: 'FRA' });
    const deleted = await runCli(['sandbox-testers', 'delete', id], env);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(ids(await s.call('GET', `${LIST}?limit=200`))).toEqual(before);
  });
});

describe('1,000 testers', () => {
  const s = useTestServer();
  const all: string[] = [];

  it('through limits and cursors, each tester is listed exactly once, in id order', async () => {
    const repo = new SandboxTestersRepository(s.db.kysely);
    const now = s.clock.now().toISOString();
    await repo.transaction(async (trx) => {
      for (let i = 0; i < 1000; i++) {
        const address = `bulk${i}@sandbox.example.com`;
        const row: SandboxTesterRow = {
          id: uuidV7(),
          first_name: `First ${i}`,
          last_name: `Last ${i}`,
          email: address,
          email_key: address,
          territory: i % 2 === 0 ? 'USA' : 'JPN',
          apple_pay_compatible: 1,
          interrupt_purchases: i % 3 === 0 ? 1 : 0,
          subscription_renewal_rate: 'MONTHLY_RENEWAL_EVERY_ONE_HOUR',
          created_at: now,
        };
        expect(await repo.insert(trx, row)).toBe(true);
        all.push(row.id);
      }
    });
    all.sort();
    for (const limit of [7, 128, 199, 200]) {
      const pages = Math.ceil(1000 / limit);
      const walked = await walkIds(s, `${LIST}?limit=${limit}`, undefined, pages + 1);
      expect(walked.pages).toHaveLength(pages);
      expect(walked.ids).toEqual(all);
      for (const p of walked.pages) expect(p.body.meta.paging).toEqual({ total: 1000, limit });
    }
    const byDefault = await walkIds(s, LIST);
    expect(byDefault.pages).toHaveLength(20);
    expect(byDefault.ids).toEqual(all);
  }, 180_000);

  it('never repeats a tester while testers are created and deleted between pages', async () => {
    const seen: string[] = [];
    let next: string | undefined = `${LIST}?limit=100`;
    let round = 0;
    while (next !== undefined) {
      const r: ApiResponse = await s.call('GET', next);
      expect(r.status, r.text).toBe(200);
      seen.push(...ids(r));
      next = r.body.links.next === undefined ? undefined : local(r.body.links.next as string);
      // a tester created (it sorts after every one seen), and one not seen yet deleted
      await newTester(s, `churn${round}`);
      const victim = all[all.length - 1 - round]!;
      await s.services.sandboxTesters.remove(victim);
      round++;
      expect(round).toBeLessThan(50);
    }
    expect(new Set(seen).size).toBe(seen.length);
  }, 120_000);
});

describe('who may read and write sandbox testers (A19)', () => {
  const s = useTestServer();

  it('team keys of ADMIN, APP_MANAGER and DEVELOPER; every other role gets 403 on all three operations', async () => {
    const t = await newTester(s, 'roles');
    for (const role of ['ADMIN', 'APP_MANAGER', 'DEVELOPER']) {
      const { token } = await s.keyWithRole(role);
      expect((await s.call('GET', LIST, { token })).status, role).toBe(200);
      const patched = await s.call('PATCH', `${LIST}/${t.id}`, { body: patchBody(t.id, { interruptPurchases: true }), token });
      expect(patched.status, `${role}: ${patched.text}`).toBe(200);
      expect((await s.call('POST', CLEAR, { body: clearBody(t.id), token })).status, role).toBe(201);
    }
    const records = await clearRecords(s);
    for (const role of ['FINANCE', 'MARKETING', 'SALES', 'CUSTOMER_SUPPORT']) {
      const { token } = await s.keyWithRole(role);
      const list = await s.call('GET', LIST, { token });
      expect(list.status, role).toBe(403);
      expect(list.body).toEqual(errorBody(forbidden()));
      // the quota still counts it (A18)
      expect(list.headers.get('x-rate-limit')).toMatch(/^user-hour-lim:3600;user-hour-rem:\d+;$/);
      const patched = await s.call('PATCH', `${LIST}/${t.id}`, { body: patchBody(t.id, { territory: 'DEU' }), token });
      expect(patched.status, role).toBe(403);
      expect(patched.body).toEqual(errorBody(forbidden()));
      const cleared = await s.call('POST', CLEAR, { body: clearBody(t.id), token });
      expect(cleared.status, role).toBe(403);
      // refused before the id is looked at: an unknown tester is 403 as well
      expect((await s.call('PATCH', `${LIST}/nobody`, { body: patchBody('nobody', {}), token })).status, role).toBe(403);
    }
    expect(await clearRecords(s)).toBe(records);
    const [row] = (await s.call('GET', LIST)).body.data;
    expect(row.attributes.territory).toBe('USA');
  });

  it("individual keys act with their user's roles: Developer and Account Holder may, Marketing may not", async () => {
    const t = await newTester(s, 'individual');
    const developer = await createUser(s, { email: email('dev'), roles: ['DEVELOPER'] });
    const marketer = await createUser(s, { email: email('mkt'), roles: ['MARKETING', 'SALES'] });
    const holder = await s.services.users.createAccountHolder({ email: email('holder'), firstName: 'Hol', lastName: 'Der' });
    for (const [userId, allowed] of [
      [developer, true],
      [holder.id, true],
      [marketer, false],
    ] as const) {
      const { token } = await individualKey(s, userId);
      expect((await s.call('GET', LIST, { token })).status).toBe(allowed ? 200 : 403);
      const patched = await s.call('PATCH', `${LIST}/${t.id}`, { body: patchBody(t.id, { territory: 'ITA' }), token });
      expect(patched.status).toBe(allowed ? 200 : 403);
      expect((await s.call('POST', CLEAR, { body: clearBody(t.id), token })).status).toBe(allowed ? 201 : 403);
    }
  });
});

describe('PATCH /v2/sandboxTesters/{id} (A21)', () => {
  const s = useTestServer();

  it('changes territory, renewal rate and interrupted purchases; what it leaves out or sends as null stays', async () => {
    const t = await newTester(s, 'patch');
    const r = await s.call('PATCH', `${LIST}/${t.id}`, {
      body: patchBody(t.id, { territory: 'CAN', subscriptionRenewalRate: 'MONTHLY_RENEWAL_EVERY_THIRTY_MINUTES' }),
    });
    expect(r.status, r.text).toBe(200);
    const changed = sandboxTesterResource({
      id: t.id,
      email: t.email,
      territory: 'CAN',
      subscriptionRenewalRate: 'MONTHLY_RENEWAL_EVERY_THIRTY_MINUTES',
    });
    expect(r.body).toEqual({ data: changed, links: { self: `${PUBLIC_URL}${LIST}/${t.id}` } });

    const nulls = await s.call('PATCH', `${LIST}/${t.id}`, {
      body: patchBody(t.id, { territory: null, subscriptionRenewalRate: null, interruptPurchases: true }),
    });
    expect(nulls.status, nulls.text).toBe(200);
    const interrupted = { ...changed, attributes: { ...changed.attributes, interruptPurchases: true } };
    expect(nulls.body.data).toEqual(interrupted);
    const none = await s.call('PATCH', `${LIST}/${t.id}`, { body: { data: { type: 'sandboxTesters', id: t.id } } });
    expect(none.status, none.text).toBe(200);
    expect(none.body.data).toEqual(interrupted);
    const listed = await s.call('GET', LIST);
    expect(listed.body.data.find((d: { id: string }) => d.id === t.id)).toEqual(interrupted);
  });

  it('refuses unknown territories and values, and the attributes made with the account, all at once (409)', async () => {
    const t = await newTester(s, 'refuse');
    const r = await s.call('PATCH', `${LIST}/${t.id}`, {
      body: patchBody(t.id, {
        firstName: 'Other',
        password: 'secret',
        territory: 'XYZ',
        interruptPurchases: 'yes',
        subscriptionRenewalRate: 'EVERY_SECOND',
        acAccountName: 'other@example.com',
      }),
    });
    expect(r.status, r.text).toBe(409);
    expect(r.body).toEqual(
      errorBody(
        entityError(
          'ATTRIBUTE.NOT_ALLOWED',
          "The attribute 'firstName' can not be included in a 'UPDATE' request",
          '/data/attributes/firstName',
        ),
        entityError('ATTRIBUTE.UNKNOWN', "'password' is not an attribute on the resource 'sandboxTesters'", '/data/attributes/password'),
        entityError(
          'ATTRIBUTE.NOT_ALLOWED',
          "The attribute 'acAccountName' can not be included in a 'UPDATE' request",
          '/data/attributes/acAccountName',
        ),
        entityError('ATTRIBUTE.INVALID', "'XYZ' is not a valid territory", '/data/attributes/territory'),
        entityError('ATTRIBUTE.INVALID', "'interruptPurchases' must be true, false or null", '/data/attributes/interruptPurchases'),
        entityError(
          'ATTRIBUTE.INVALID',
          "'EVERY_SECOND' is not a valid value for 'subscriptionRenewalRate'",
          '/data/attributes/subscriptionRenewalRate',
        ),
      ),
    );
    const lower = await s.call('PATCH', `${LIST}/${t.id}`, { body: patchBody(t.id, { territory: 'usa' }) });
    expect(lower.body).toEqual(errorBody(entityError('ATTRIBUTE.INVALID', "'usa' is not a valid territory", '/data/attributes/territory')));
    const rel = await s.call('PATCH', `${LIST}/${t.id}`, {
      body: { data: { type: 'sandboxTesters', id: t.id, relationships: { apps: { data: [] } } } },
    });
    expect(rel.status).toBe(409);
    expect(rel.body).toEqual(
      errorBody(
        apiError('ENTITY_ERROR.RELATIONSHIP.UNKNOWN', "'apps' is not a relationship on the resource 'sandboxTesters'", {
          pointer: '/data/relationships/apps',
        }),
      ),
    );
    // nothing changed
    const listed = await s.call('GET', LIST);
    expect(listed.body.data.find((d: { id: string }) => d.id === t.id)).toEqual(sandboxTesterResource({ id: t.id, email: t.email }));
  });

  it('checks the shape first (422), then the tester (404), then the values (409)', async () => {
    const t = await newTester(s, 'order');
    const mismatch = await s.call('PATCH', `${LIST}/${t.id}`, { body: patchBody('other', { territory: 'XYZ' }) });
    expect(mismatch.status).toBe(422);
    expect(mismatch.body).toEqual(errorBody(unprocessable(`The id 'other' does not match the id '${t.id}' in the URL`, '/data/id')));
    const wrongType = await s.call('PATCH', `${LIST}/${t.id}`, { body: { data: { type: 'users', id: t.id } } });
    expect(wrongType.status).toBe(422);
    expect(wrongType.body.errors[0].source).toEqual({ pointer: '/data/type' });
    const unknown = await s.call('PATCH', `${LIST}/${'0'.repeat(8)}`, { body: patchBody('0'.repeat(8), { territory: 'XYZ' }) });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual(errorBody(notFound('sandboxTesters', '0'.repeat(8))));
    const removed = await newTester(s, 'removed');
    await s.services.sandboxTesters.remove(removed.id);
    expect((await s.call('PATCH', `${LIST}/${removed.id}`, { body: patchBody(removed.id, {}) })).status).toBe(404);
  });
});

describe('POST /v2/sandboxTestersClearPurchaseHistoryRequest (A22)', () => {
  const s = useTestServer();

  it('records a request naming the testers (201, Location), as Apple answers it; two clears of one tester are fine', async () => {
    const [a, b] = [await newTester(s, 'clear-a'), await newTester(s, 'clear-b')];
    const r = await s.call('POST', CLEAR, { body: clearBody(a.id, b.id, a.id) });
    expect(r.status, r.text).toBe(201);
    const id = r.body.data.id as string;
    expect(id).toMatch(UUID);
    const self = `${PUBLIC_URL}${CLEAR}/${id}`;
    expect(r.body).toEqual({
      data: { type: 'sandboxTestersClearPurchaseHistoryRequest', id, links: { self } },
      links: { self: `${PUBLIC_URL}${CLEAR}` },
    });
    expect(r.headers.get('location')).toBe(self);
    const recorded = await s.services.sandboxTesters.findClearRequest(id);
    expect(recorded).toEqual({ id, testerIds: [a.id, b.id].sort(), createdAt: s.clock.now().toISOString() });

    const again = await s.call('POST', CLEAR, { body: clearBody(a.id) });
    expect(again.status, again.text).toBe(201);
    expect(again.body.data.id).not.toBe(id);
    expect((await s.services.sandboxTesters.findClearRequest(again.body.data.id as string))?.testerIds).toEqual([a.id]);
    // the testers themselves are as they were
    const listed = await s.call('GET', LIST);
    expect(listed.body.data).toEqual([a, b].map((t) => sandboxTesterResource({ id: t.id, email: t.email })));
  });

  it('refuses unknown testers by their index (409), and records nothing', async () => {
    const t = await newTester(s, 'known');
    const before = await clearRecords(s);
    const r = await s.call('POST', CLEAR, { body: clearBody(t.id, 'nobody', t.id, 'x\u0000y') });
    expect(r.status, r.text).toBe(409);
    expect(r.body).toEqual(
      errorBody(
        entityError(
          'RELATIONSHIP.INVALID',
          "'nobody' is not a valid ID for this relationship. There is no sandbox tester with this id.",
          '/data/relationships/sandboxTesters/data/1',
        ),
        entityError(
          'RELATIONSHIP.INVALID',
          "'x\u0000y' is not a valid ID for this relationship. There is no sandbox tester with this id.",
          '/data/relationships/sandboxTesters/data/3',
        ),
      ),
    );
    for (const data of [[], null]) {
      const empty = await s.call('POST', CLEAR, {
        body: { data: { type: 'sandboxTestersClearPurchaseHistoryRequest', relationships: { sandboxTesters: { data } } } },
      });
      expect(empty.status).toBe(409);
      expect(empty.body).toEqual(
        errorBody(
          entityError(
            'RELATIONSHIP.INVALID',
            'A request to clear purchase history must name at least one sandbox tester',
            '/data/relationships/sandboxTesters',
          ),
        ),
      );
    }
    // a removed tester is unknown too
    const removed = await newTester(s, 'gone');
    await s.services.sandboxTesters.remove(removed.id);
    expect((await s.call('POST', CLEAR, { body: clearBody(removed.id) })).status).toBe(409);
    expect(await clearRecords(s)).toBe(before);
  });

  it('answers a document of the wrong shape with 422 and attributes it does not take with 409', async () => {
    const t = await newTester(s, 'shape');
    const type = 'sandboxTestersClearPurchaseHistoryRequest';
    const noRelationships = await s.call('POST', CLEAR, { body: { data: { type } } });
    expect(noRelationships.status).toBe(422);
    expect(noRelationships.body).toEqual(
      errorBody(unprocessable("The resource object must have a 'relationships' object", '/data/relationships')),
    );
    const withId = await s.call('POST', CLEAR, { body: { data: { ...clearBody(t.id).data, id: 'mine' } } });
    expect(withId.body).toEqual(errorBody(unprocessable('The resource object of a create request must not have an id', '/data/id')));
    const wrongItem = await s.call('POST', CLEAR, {
      body: { data: { type, relationships: { sandboxTesters: { data: [{ type: 'users', id: t.id }] } } } },
    });
    expect(wrongItem.status).toBe(422);
    expect(wrongItem.body).toEqual(
      errorBody(unprocessable("The type must be 'sandboxTesters'", '/data/relationships/sandboxTesters/data/0/type')),
    );
    const attribute = await s.call('POST', CLEAR, { body: { data: { ...clearBody(t.id).data, attributes: { all: true } } } });
    expect(attribute.status).toBe(409);
    expect(attribute.body).toEqual(
      errorBody(entityError('ATTRIBUTE.UNKNOWN', `'all' is not an attribute on the resource '${type}'`, '/data/attributes/all')),
    );
  });
});

describe("a tester's email is no team member's, and the other way round (A23)", () => {
  const s = useTestServer();

  it("an invitation to a tester's email is a 409 DUPLICATE (any case); once the tester is deleted it is fine", async () => {
    const t = await newTester(s, 'Mixed.Case');
    for (const address of [t.email, t.email.toUpperCase()]) {
      const r = await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: address }) });
      expect(r.status, r.text).toBe(409);
      expect(r.body).toEqual(
        errorBody(
          entityError(
            'ATTRIBUTE.INVALID.DUPLICATE',
            `The email '${address}' is the Apple Account of a sandbox tester of this team; it can't also belong to a team member`,
            '/data/attributes/email',
          ),
        ),
      );
    }
    // with another problem in the body, both are reported
    const both = await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: t.email, roles: ['NOBODY'] }) });
    expect(both.body.errors.map((e: { code: string }) => e.code)).toEqual([
      'ENTITY_ERROR.ATTRIBUTE.INVALID',
      'ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE',
    ]);
    await s.services.sandboxTesters.remove(t.email.toUpperCase());
    expect((await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: t.email }) })).status).toBe(201);
  });

  it("the Account Holder can't take a tester's email", async () => {
    const t = await newTester(s, 'holder');
    await expect(s.services.users.createAccountHolder({ email: t.email, firstName: 'A', lastName: 'H' })).rejects.toThrow(
      `The email '${t.email}' is the Apple Account of a sandbox tester of this team; it can't also belong to a team member`,
    );
  });

  it("a tester can't take the email of a pending invitation, a user or another tester; an expired invitation's is free", async () => {
    const env = databaseEnv(s.config);
    const create = (address: string) =>
      runCli(['sandbox-testers', 'create', '--first-name', 'S', '--last-name', 'T', '--email', address, '--territory', 'USA'], env);

    const invited = email('invited');
    expect((await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: invited }) })).status).toBe(201);
    const member = email('member');
    await createUser(s, { email: member });
    for (const address of [invited, member.toUpperCase()]) {
      const run = await create(address);
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        `asc-access: The email '${address}' already belongs to a pending invitation or a user of this team; a sandbox tester needs an Apple Account used nowhere else\n`,
      );
    }
    const tester = await newTester(s, 'twice');
    const run = await create(tester.email);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`asc-access: A sandbox tester with the email '${tester.email}' exists already\n`);

    // an invitation sent 73 hours ago has expired: its email is free for a tester at once
    const lapsed = email('lapsed');
    s.clock.advance(-73 * HOUR);
    const { token } = await s.keyWithRole('ADMIN'); // minted at that time
    expect((await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: lapsed }), token })).status).toBe(201);
    s.clock.advance(73 * HOUR);
    const made = await create(lapsed);
    expect(made.code, made.stderr).toBe(0);
    const again = await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: lapsed }) });
    expect(again.status).toBe(409);
  });
});
