/**
 * Bodies nested deeply or close to the size limit, on every write operation: each is answered with
 * a 4xx ErrorResponse (the harness checks it against the spec), never a 5xx (docs/behavior.md A3). A body
 * nested more than 64 levels deep, wherever, is refused before it is parsed (400 ENTITY_INVALID).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../helpers/users.js';
import { useTestServer, type ApiResponse } from '../helpers/harness.js';

const DEPTH = 100_000;
const deep = '['.repeat(DEPTH) + ']'.repeat(DEPTH);

describe('deep and huge request bodies', () => {
  const s = useTestServer();
  let user = '';

  beforeAll(async () => {
    user = await createUser(s, { email: 'deep@example.com', roles: ['DEVELOPER'] });
  });

  const send = (method: string, path: string, raw: string) =>
    s.call(method, path, { rawBody: raw, headers: { 'content-type': 'application/json' } });

  function answered(r: ApiResponse, status: number, what: string) {
    expect(r.status, `${what}: ${r.text.slice(0, 300)}`).toBe(status);
    expect(Array.isArray(r.body.errors) && r.body.errors.length > 0, what).toBe(true);
    if (status === 400) expect(r.body.errors[0].detail, what).toBe('The request body nests arrays and objects more than 64 levels deep');
  }

  it('POST /v1/userInvitations: a deeply nested value in any member', async () => {
    const attributes = `"email":"deep.invite@example.com","firstName":"A","lastName":"B","roles":["DEVELOPER"]`;
    const cases: Array<[string, number]> = [
      [`{"data":{"type":"userInvitations","attributes":{${attributes},"email":${deep}}}}`, 400],
      [`{"data":{"type":"userInvitations","attributes":{${attributes},"roles":[${deep}]}}}`, 400],
      [`{"data":{"type":"userInvitations","attributes":{${attributes},"nickname":${deep}}}}`, 400],
      [`{"data":{"type":${deep},"attributes":{${attributes}}}}`, 400],
      [`{"data":{"type":"userInvitations","attributes":{${attributes}},"relationships":{"visibleApps":{"data":${deep}}}}}`, 400],
      [`{"data":${deep}}`, 400],
      [deep, 400],
    ];
    for (const [raw, status] of cases) answered(await send('POST', '/v1/userInvitations', raw), status, raw.slice(0, 120));
  });

  it('PATCH /v1/users/{id} and the visibleApps writes: deeply nested values', async () => {
    answered(
      await send('PATCH', `/v1/users/${user}`, `{"data":{"type":"users","id":"${user}","attributes":{"roles":${deep}}}}`),
      400,
      'roles',
    );
    answered(await send('PATCH', `/v1/users/${user}`, `{"data":{"type":"users","id":${deep}}}`), 400, 'id');
    for (const method of ['POST', 'PATCH', 'DELETE']) {
      answered(await send(method, `/v1/users/${user}/relationships/visibleApps`, `{"data":[${deep}]}`), 400, method);
    }
  });

  it('a body just under the size limit with an offending item in every place', async () => {
    const items = Array.from({ length: 40_000 }, () => '{"type":"apps","id":""}').join(',');
    const raw = `{"data":[${items}]}`;
    expect(raw.length).toBeLessThan(1024 * 1024);
    const r = await send('PATCH', `/v1/users/${user}/relationships/visibleApps`, raw);
    answered(r, 422, 'linkage');
    expect(r.body.errors).toHaveLength(40_000);
    const roles = Array.from({ length: 80_000 }, () => '"X"').join(',');
    const patch = await send('PATCH', `/v1/users/${user}`, `{"data":{"type":"users","id":"${user}","attributes":{"roles":[${roles}]}}}`);
    answered(patch, 409, 'roles');
    expect(patch.body.errors).toHaveLength(80_000);
  });
});
