import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  faultError,
  FaultRuleError,
  faultRules,
  compileGlob,
  isApiPath,
  MAX_FAULT_DELAY_MS,
  validateFaultRule,
} from '../../../src/emulator/faults.js';

/** The problems add() reports for `input`, as [pointer, message] pairs. */
function problems(input: unknown): Array<{ pointer: string; message: string }> {
  try {
    faultRules().add(input);
  } catch (err) {
    expect(err).toBeInstanceOf(FaultRuleError);
    const e = err as FaultRuleError;
    expect(e.pointer).toBe(e.problems[0]!.pointer);
    expect(e.message).toBe(e.problems[0]!.message);
    return [...e.problems];
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}
const pointers = (input: unknown) => problems(input).map((p) => p.pointer);

/** Hands out the numbers given, in turn (and fails the test if asked for more). */
function draws(...values: number[]): () => number {
  return () => {
    const v = values.shift();
    if (v === undefined) throw new Error('no more draws');
    return v;
  };
}

/** mulberry32: a small seeded generator, uniform in [0, 1). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('validation', () => {
  it('accepts the smallest rule and fills in the defaults', () => {
    const rule = faultRules().add({ path: '/v1/users', action: { status: 500 } });
    expect(rule).toStrictEqual({
      id: expect.any(String),
      method: '*',
      path: '/v1/users',
      action: { status: 500 },
      times: null,
      share: 1,
      hits: 0,
      remaining: null,
    });
  });

  it('accepts each action, methods in any case, times and share', () => {
    const rules = faultRules();
    expect(rules.add({ method: 'post', path: '/v1/*', action: { delayMs: 0 }, times: 3, share: 0.25 })).toMatchObject({
      method: 'POST',
      action: { delayMs: 0 },
      times: 3,
      remaining: 3,
      share: 0.25,
    });
    expect(rules.add({ path: '/v1/*', action: { delayMs: MAX_FAULT_DELAY_MS } }).action).toStrictEqual({ delayMs: MAX_FAULT_DELAY_MS });
    expect(rules.add({ path: '/v1/*', action: { drop: true }, times: null }).action).toStrictEqual({ drop: true });
    expect(rules.add({ method: '*', path: '/', action: { status: 599 }, share: 1 }).action).toStrictEqual({ status: 599 });
    for (const method of ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      expect(rules.add({ method, path: '/v1/apps', action: { status: 400 } }).method).toBe(method);
    }
  });

  it('refuses anything but an object, at the root', () => {
    for (const input of [null, 'rule', 42, [], true]) expect(pointers(input)).toStrictEqual(['']);
  });

  it('refuses an unknown method', () => {
    for (const method of ['FETCH', '', 'GETS', 1, null, '**'])
      expect(pointers({ method, path: '/v1/x', action: { status: 500 } })).toEqual(['/method']);
  });

  it("refuses a path that is missing or does not start with '/'", () => {
    for (const path of [undefined, '', 'v1/users', '*', 7, `/${'a'.repeat(2048)}`]) {
      expect(pointers({ path, action: { status: 500 } })).toEqual(['/path']);
    }
  });

  it('refuses a status outside 4xx and 5xx', () => {
    for (const status of [200, 302, 399, 600, 429.5, '429', null])
      expect(pointers({ path: '/v1/x', action: { status } })).toEqual(['/action/status']);
  });

  it('refuses a negative, fractional or too long delay', () => {
    for (const delayMs of [-1, 1.5, MAX_FAULT_DELAY_MS + 1, '10', Infinity]) {
      expect(pointers({ path: '/v1/x', action: { delayMs } })).toEqual(['/action/delayMs']);
    }
  });

  it('refuses drop other than true', () => {
    for (const drop of [false, 'yes', 1]) expect(pointers({ path: '/v1/x', action: { drop } })).toEqual(['/action/drop']);
  });

  it('refuses an action that is missing, empty, not an object, or has more than one action', () => {
    expect(pointers({ path: '/v1/x' })).toEqual(['/action']);
    expect(pointers({ path: '/v1/x', action: {} })).toEqual(['/action']);
    expect(pointers({ path: '/v1/x', action: 500 })).toEqual(['/action']);
    expect(pointers({ path: '/v1/x', action: [{ status: 500 }] })).toEqual(['/action']);
    expect(problems({ path: '/v1/x', action: { status: 500, drop: true } })).toEqual([
      { pointer: '/action', message: "'action' takes one action, not status and drop" },
    ]);
  });

  it('refuses unknown members, escaping their names as pointer segments', () => {
    expect(pointers({ path: '/v1/x', action: { status: 500 }, time: 2 })).toEqual(['/time']);
    expect(pointers({ path: '/v1/x', action: { status: 500, 'a/b~c': 1 } })).toEqual(['/action/a~1b~0c']);
  });

  it('refuses times below 1 or fractional', () => {
    for (const times of [0, -1, 1.5, '2']) expect(pointers({ path: '/v1/x', action: { status: 500 }, times })).toEqual(['/times']);
  });

  it('refuses a share outside (0, 1]', () => {
    for (const share of [0, -0.1, 1.01, '0.5', NaN])
      expect(pointers({ path: '/v1/x', action: { status: 500 }, share })).toEqual(['/share']);
  });

  it('reports every refused member, in the order of the input', () => {
    expect(pointers({ method: 'GO', path: 'x', action: { status: 200 }, times: 0, share: 2, extra: 1 })).toEqual([
      '/extra',
      '/method',
      '/path',
      '/action/status',
      '/times',
      '/share',
    ]);
  });

  it('validateFaultRule() is what add() checks', () => {
    expect(validateFaultRule({ path: '/v1/x', action: { drop: true } })).toStrictEqual({
      method: '*',
      path: '/v1/x',
      action: { drop: true },
      times: null,
      share: 1,
    });
    expect(() => validateFaultRule({ path: '/v1/x' })).toThrow(FaultRuleError);
  });

  it('adds nothing when it refuses', () => {
    const rules = faultRules();
    expect(() => rules.add({ path: 'nope', action: { status: 500 } })).toThrow(FaultRuleError);
    expect(rules.list()).toEqual([]);
  });
});

describe('globs', () => {
  it('matches * against any characters, slashes included, and everything else literally', () => {
    const g = compileGlob('/v1/users*');
    expect(g.test('/v1/users')).toBe(true);
    expect(g.test('/v1/users/abc/visibleApps')).toBe(true);
    expect(g.test('/v1/userInvitations')).toBe(false);
    expect(compileGlob('/v1/*/visibleApps').test('/v1/users/x/visibleApps')).toBe(true);
    expect(compileGlob('/v1/apps').test('/v1/apps/1')).toBe(false);
    expect(compileGlob('/v1/a.b(c)?').test('/v1/a.b(c)?')).toBe(true);
    expect(compileGlob('/v1/a.b').test('/v1/axb')).toBe(false);
    expect(compileGlob('*').test('')).toBe(true);
  });

  it('matches a text against itself, its prefix followed by *, and nothing longer (property)', () => {
    const noStar = fc
      .string({ unit: fc.oneof(fc.constantFrom(...'.+?^${}()|[]\\/é\n'), fc.string({ minLength: 1, maxLength: 1 })) })
      .map((s) => s.replace(/\*/g, ''));
    fc.assert(
      fc.property(noStar, noStar, (s, tail) => {
        expect(compileGlob(s).test(s)).toBe(true);
        expect(compileGlob(`${s}*`).test(s + tail)).toBe(true);
        expect(compileGlob(s).test(`${s}x`)).toBe(false);
      }),
    );
  });

  it('matches many stars in time linear in the text (a regular expression would backtrack for ever)', () => {
    const text = `/${'a'.repeat(20_000)}`;
    expect(compileGlob('*a*a*a*a*a*a*a*a*a*a*b').test(text)).toBe(false);
    expect(compileGlob('*a*a*a*a*a*a*a*a*a*a*').test(text)).toBe(true);
    expect(compileGlob('/a*a').test('/a')).toBe(false);
    expect(compileGlob('/a*a').test('/aa')).toBe(true);
    expect(compileGlob('**').test('')).toBe(true);
    expect(compileGlob('/v1/*/x*y/z').test('/v1/users/x1y/z')).toBe(true);
    expect(compileGlob('/v1/*/x*y/z').test('/v1/users/xy/zz')).toBe(false);
  });

  it('agrees with a regular expression on short texts (property)', () => {
    const small = fc.string({ unit: fc.constantFrom('a', 'b', '/', '*'), maxLength: 8 });
    const text = fc.string({ unit: fc.constantFrom('a', 'b', '/'), maxLength: 10 });
    fc.assert(
      fc.property(small, text, (glob, t) => {
        const re = new RegExp(`^${glob.split('*').join('[\\s\\S]*')}$`);
        expect(compileGlob(glob).test(t)).toBe(re.test(t));
      }),
    );
  });

  it('knows the API paths', () => {
    for (const p of ['/v1', '/v1/users', '/v2/userInvitations', '/v1/']) expect(isApiPath(p)).toBe(true);
    for (const p of ['/', '/v3/x', '/v10', '/activate/x', '/_emulator/v1/faults', '/healthz', '/v1x']) expect(isApiPath(p)).toBe(false);
  });
});

describe('matching', () => {
  it('takes the first rule, in order, whose method and path match', () => {
    const rules = faultRules();
    const a = rules.add({ method: 'POST', path: '/v1/userInvitations', action: { status: 409 } });
    const b = rules.add({ path: '/v1/user*', action: { status: 500 } });
    const c = rules.add({ method: 'GET', path: '/v1/*', action: { delayMs: 5 } });
    expect(rules.take('POST', '/v1/userInvitations')?.id).toBe(a.id);
    expect(rules.take('post', '/v1/userInvitations')?.id).toBe(a.id);
    expect(rules.take('GET', '/v1/userInvitations')?.id).toBe(b.id);
    expect(rules.take('GET', '/v1/apps')?.id).toBe(c.id);
    expect(rules.take('DELETE', '/v1/apps/1')).toBeNull();
    expect(rules.take('GET', '/activate/x')).toBeNull();
  });

  it('counts hits and remaining, and leaves a used-up rule listed but inert', () => {
    const rules = faultRules();
    const two = rules.add({ path: '/v1/apps', action: { status: 429 }, times: 2 });
    const always = rules.add({ path: '/v1/*', action: { status: 503 } });
    expect(rules.take('GET', '/v1/apps')).toMatchObject({ id: two.id, hits: 1, remaining: 1 });
    expect(rules.take('GET', '/v1/apps')).toMatchObject({ id: two.id, hits: 2, remaining: 0 });
    expect(rules.take('GET', '/v1/apps')).toMatchObject({ id: always.id, hits: 1, remaining: null });
    expect(rules.list()).toStrictEqual([
      { ...two, hits: 2, remaining: 0 },
      { ...always, hits: 1, remaining: null },
    ]);
  });

  it('hands out copies: changing what it returns changes no rule', () => {
    const rules = faultRules();
    const r = rules.add({ path: '/v1/apps', action: { status: 500 }, times: 1 });
    r.remaining = 5;
    (r.action as { status: number }).status = 400;
    rules.list()[0]!.hits = 99;
    expect(rules.take('GET', '/v1/apps')).toMatchObject({ action: { status: 500 }, hits: 1, remaining: 0 });
    expect(rules.take('GET', '/v1/apps')).toBeNull();
  });

  it('removes one rule by id and clears all; ids are never reused', () => {
    const rules = faultRules();
    const a = rules.add({ path: '/v1/a', action: { status: 500 } });
    const b = rules.add({ path: '/v1/b', action: { status: 500 } });
    expect(rules.remove(a.id)).toBe(true);
    expect(rules.remove(a.id)).toBe(false);
    expect(rules.remove('nothing')).toBe(false);
    expect(rules.list().map((r) => r.id)).toEqual([b.id]);
    expect(rules.take('GET', '/v1/a')).toBeNull();
    rules.clear();
    expect(rules.list()).toEqual([]);
    expect(rules.take('GET', '/v1/b')).toBeNull();
    const c = rules.add({ path: '/v1/a', action: { status: 500 } });
    expect([a.id, b.id]).not.toContain(c.id);
  });

  it('takes a request under a share when the draw is below it, and lets a later rule try otherwise', () => {
    const rules = faultRules({ random: draws(0.1, 0.5, 0.49, 0.99) });
    const half = rules.add({ path: '/v1/*', action: { status: 500 }, share: 0.5 });
    const rest = rules.add({ path: '/v1/*', action: { status: 503 } });
    expect(rules.take('GET', '/v1/apps')?.id).toBe(half.id);
    expect(rules.take('GET', '/v1/apps')?.id).toBe(rest.id);
    expect(rules.take('GET', '/v1/apps')?.id).toBe(half.id);
    expect(rules.take('GET', '/v1/apps')?.id).toBe(rest.id);
    expect(rules.list().map((r) => r.hits)).toEqual([2, 2]);
  });

  it('draws nothing for rules without a share or that do not match', () => {
    const rules = faultRules({ random: draws() });
    rules.add({ method: 'POST', path: '/v1/*', action: { status: 500 }, share: 0.5 });
    rules.add({ path: '/v1/*', action: { status: 503 } });
    expect(rules.take('GET', '/v1/apps')?.action).toEqual({ status: 503 });
  });

  it('counts only draws that hit against times', () => {
    const rules = faultRules({ random: draws(0.9, 0.1, 0.9, 0.1) });
    rules.add({ path: '/v1/*', action: { status: 500 }, share: 0.5, times: 2 });
    const taken = [1, 2, 3, 4, 5].map(() => rules.take('GET', '/v1/apps') !== null);
    expect(taken).toEqual([false, true, false, true, false]);
  });

  it('takes a share of the requests near that share with a seeded generator', () => {
    const rules = faultRules({ random: seeded(22) });
    rules.add({ path: '/v1/*', action: { status: 500 }, share: 0.3 });
    let hits = 0;
    for (let i = 0; i < 10_000; i++) if (rules.take('GET', '/v1/apps')) hits++;
    expect(hits).toBeGreaterThan(2700);
    expect(hits).toBeLessThan(3300);
    expect(rules.list()[0]!.hits).toBe(hits);
  });

  it('is taken exactly when its draw is below its share (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true, minExcluded: true }),
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })),
        (share, values) => {
          const rules = faultRules({ random: draws(...values) });
          rules.add({ path: '/v1/*', action: { status: 500 }, share });
          const expected = share === 1 ? values.length : values.filter((v) => v < share).length;
          let hits = 0;
          for (let i = 0; i < values.length; i++) if (rules.take('GET', '/v1/x')) hits++;
          expect(hits).toBe(expected);
        },
      ),
    );
  });
});

describe('faultError', () => {
  it('answers 429, 500 and 503 with the API own errors', () => {
    expect(faultError(429, '/v1/apps').toJSON()).toMatchObject({ status: '429', code: 'RATE_LIMIT_EXCEEDED' });
    expect(faultError(500, '/v1/apps').toJSON()).toMatchObject({ status: '500', code: 'UNEXPECTED_ERROR' });
    expect(faultError(503, '/v1/apps').toJSON()).toMatchObject({ status: '503', code: 'SERVICE_UNAVAILABLE' });
  });

  it("gives every 4xx and 5xx an error of that status with a code of the catalogue's form", () => {
    for (let status = 400; status <= 599; status++) {
      const body = faultError(status, '/v1/users/abc').toJSON();
      expect(body.status).toBe(String(status));
      expect(body.code).toMatch(/^[A-Z][A-Z0-9_.]*[A-Z0-9]$/);
      expect(body.title.length).toBeGreaterThan(0);
    }
    expect(faultError(401, '/v1/users').toJSON()).toStrictEqual({
      status: '401',
      code: 'NOT_AUTHORIZED',
      title: expect.any(String),
      detail: expect.any(String),
    });
    expect(faultError(404, '/v1/users/abc').toJSON()).toMatchObject({
      code: 'NOT_FOUND',
      detail: "There is no resource of type 'users' with id 'abc'",
    });
    expect(faultError(404, '/v1/users').toJSON()).toMatchObject({ code: 'PATH_ERROR' });
    expect(faultError(418, '/v1/users').toJSON()).toMatchObject({ code: 'I_M_A_TEAPOT' });
    expect(faultError(502, '/v1/users').toJSON()).toMatchObject({ status: '502', code: 'UNEXPECTED_ERROR' });
  });
});
