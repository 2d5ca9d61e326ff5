/** AppJsonCache.array(): the apps as one JSON array, joined once and joined again when an app changes. */
import { describe, expect, it } from 'vitest';
import { AppJsonCache } from '../../../src/resources/apps/json-cache.js';
import { serializeApp } from '../../../src/resources/apps/serializer.js';
import type { App } from '../../../src/resources/apps/service.js';

const BASE = 'https://asc.example.com';

function app(n: number, name = `App ${n}`): App {
  return { id: String(1_000_000_000 + n), name, bundleId: `com.example.app${n}`, sku: `SKU${n}`, primaryLocale: 'en-US' };
}

const text = (cache: AppJsonCache, apps: App[]) => cache.array(apps).bytes.toString('utf8');

describe('AppJsonCache.array', () => {
  it('is the JSON array of the apps as serializeApp renders them, in the order given', () => {
    const cache = new AppJsonCache(BASE);
    for (const apps of [[], [app(1)], [app(3), app(1), app(2)]]) {
      expect(JSON.parse(text(cache, apps))).toEqual(apps.map((a) => JSON.parse(JSON.stringify(serializeApp(a, { base: BASE })))));
    }
  });

  it('answers the same apps with the same bytes, and a changed app with new ones', () => {
    const cache = new AppJsonCache(BASE);
    const apps = [app(1), app(2), app(3)];
    const first = cache.array(apps);
    expect(cache.array(apps.map((a) => ({ ...a })))).toBe(first); // equal rows read again: kept
    const renamed = [app(1), app(2, 'Renamed'), app(3)];
    const changed = cache.array(renamed);
    expect(changed).not.toBe(first);
    expect(JSON.parse(changed.bytes.toString('utf8'))[1].attributes.name).toBe('Renamed');
    const back = cache.array(apps);
    expect(JSON.parse(back.bytes.toString('utf8'))[1].attributes.name).toBe('App 2');
  });

  it('keeps at most its capacity of arrays, the least recently used out first', () => {
    const cache = new AppJsonCache(BASE, 100, 2);
    const a = [app(1)];
    const b = [app(2)];
    const c = [app(3)];
    const ja = cache.array(a);
    const jb = cache.array(b);
    expect(cache.array(a)).toBe(ja); // a is now the most recently used
    cache.array(c); // b goes
    expect(cache.array(a)).toBe(ja);
    expect(cache.array(b)).not.toBe(jb);
  });
});
