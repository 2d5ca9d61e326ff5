/**
 * Text and bytes that lie, and bodies built to stall the parser, over a real socket on a real
 * database (docs/behavior.md A3, A9, A10): lone surrogates, bidirectional controls and names that show
 * nothing are refused with 409 on the attribute; bytes that are not UTF-8 and bodies nested deeper
 * than 64 levels with 400; what is stored is exactly what is answered.
 */
import { describe, expect, it } from 'vitest';
import { apiError, entityError } from '../helpers/api-errors.js';
import { invitationBody, useTestServer } from '../helpers/harness.js';

const invalid = (name: string, detail: string) => entityError('ATTRIBUTE.INVALID', detail, `/data/attributes/${name}`);
const entityInvalid = (detail: string) => apiError('ENTITY_INVALID', detail);

const BIDI_CONTROLS = ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069'];

describe('text in request bodies (A3, A9, A10)', () => {
  const s = useTestServer();
  let seq = 0;
  const email = (tag: string) => `${tag}.${++seq}@text.example.com`;
  const post = (body: unknown) => s.call('POST', '/v1/userInvitations', { body });

  /** POSTs raw bytes as application/json with the admin token. */
  async function postBytes(bytes: Uint8Array) {
    const res = await fetch(`${s.baseUrl}/v1/userInvitations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json' },
      body: new Blob([new Uint8Array(bytes)]),
    });
    return { status: res.status, body: (await res.json()) as unknown };
  }

  /** Nothing was stored for this address. */
  async function noneStored(address: string) {
    const list = await s.call('GET', `/v1/userInvitations?filter[email]=${encodeURIComponent(address)}`);
    expect(list.body.data, address).toEqual([]);
  }

  describe('names (A10)', () => {
    it('409 INVALID for a name with an unpaired surrogate, and nothing stored', async () => {
      // JSON.stringify writes a lone surrogate as the escape \ud800, valid JSON text
      for (const [first, last] of [
        ['\ud800', 'Appleseed'],
        ['Jane', 'Apple\udc00seed'],
        ['Ja\udbffne', 'X\ud83d'],
      ]) {
        const address = email('surrogate');
        const res = await post(invitationBody({ email: address, firstName: first, lastName: last }));
        expect(res.status, JSON.stringify([first, last])).toBe(409);
        const name = first === 'Jane' ? 'lastName' : 'firstName';
        expect(res.body.errors[0], JSON.stringify([first, last])).toEqual(
          invalid(name, `'${name}' must be valid Unicode text; it contains an unpaired surrogate`),
        );
        await noneStored(address);
      }
    });

    it('409 INVALID for a name with a bidirectional embedding, override or isolate control', async () => {
      for (const control of BIDI_CONTROLS) {
        const address = email('bidi');
        const res = await post(invitationBody({ email: address, firstName: `Jane${control}moc.elppa` }));
        expect(res.status, JSON.stringify(control)).toBe(409);
        expect(res.body).toEqual({ errors: [invalid('firstName', "'firstName' must not contain bidirectional control characters")] });
        await noneStored(address);
      }
    });

    it('409 INVALID for a name without a visible character', async () => {
      // zero-width space, zero-width joiner, word joiner, BOM, Hangul filler, blank Braille, a lone combining mark
      for (const name of ['\u200b', '\u200b\u200d', ' \u2060 ', '\u200b\ufeff\u200b', '\u3164', '\u2800', '\u0301', '\u00a0\u200c\u00a0']) {
        const address = email('invisible');
        const res = await post(invitationBody({ email: address, lastName: name }));
        expect(res.status, JSON.stringify(name)).toBe(409);
        expect(res.body).toEqual({ errors: [invalid('lastName', "'lastName' must contain at least one visible character")] });
        await noneStored(address);
      }
    });

    it('refuses the same names for the Account Holder (CLI)', async () => {
      const cases: Array<[string, RegExp]> = [
        ['\ud800', /unpaired surrogate/],
        ['Hal\u202e', /bidirectional control/],
        ['\u200b', /visible character/],
      ];
      for (const [firstName, message] of cases) {
        const holder = s.services.users.createAccountHolder({ email: email('holder'), firstName, lastName: 'Holder' });
        await expect(holder).rejects.toThrow(message);
      }
    });
  });

  describe('email (A9)', () => {
    it('409 INVALID for an address with an unpaired surrogate or a bidirectional control', async () => {
      for (const address of ['ja\ud800ne@text.example.com', 'jane@moc.elppa\u202e.example.com', '\u2066jane@text.example.com']) {
        const res = await post(invitationBody({ email: address }));
        expect(res.status, JSON.stringify(address)).toBe(409);
        expect(res.body).toEqual({ errors: [invalid('email', `'${address}' is not a valid email address`)] });
      }
    });
  });

  describe('bytes (A3)', () => {
    const good = JSON.stringify(invitationBody({ email: 'bytes@text.example.com', firstName: 'JANE' }));

    it('400 ENTITY_INVALID for a body that is not UTF-8, and nothing stored', async () => {
      const at = Buffer.from(good.slice(0, good.indexOf('JANE') + 2));
      const rest = Buffer.from(good.slice(good.indexOf('JANE') + 2));
      // a stray byte, a truncated sequence, an overlong NUL, an encoded surrogate (CESU-8), past U+10FFFF
      for (const bad of [[0xff], [0xe6, 0x9d], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80]]) {
        const res = await postBytes(Buffer.concat([at, Buffer.from(bad), rest]));
        expect(res.status, JSON.stringify(bad)).toBe(400);
        expect(res.body).toEqual({ errors: [entityInvalid('The request body is not valid UTF-8')] });
      }
      await noneStored('bytes@text.example.com');
      // the same body, valid, is taken
      expect((await postBytes(Buffer.from(good))).status).toBe(201);
    });
  });

  describe('what is stored is what is answered (A10)', () => {
    it('keeps emoji, combining marks, CJK and right-to-left letters byte for byte', async () => {
      const names: Array<[string, string]> = [
        ['😀👩🏽‍💻', '🏳️‍🌈'],
        ['Jose\u0301', 'Mu\u0308ller'], // decomposed: kept as given, not normalised
        ['李', '小龍'],
        ['דוד', 'عبد الله'],
        ['Zoë 𝔄𝔭𝔭𝔩𝔢', 'O’Brien-Łukasz'],
      ];
      for (const [firstName, lastName] of names) {
        const address = email('unicode');
        const created = await post(invitationBody({ email: address, firstName, lastName }));
        expect(created.status, firstName).toBe(201);
        const id = created.body.data.id as string;
        for (const res of [created, await s.call('GET', `/v1/userInvitations/${id}`)]) {
          const attrs = res.body.data.attributes;
          expect(Buffer.from(attrs.firstName, 'utf8').equals(Buffer.from(firstName, 'utf8')), firstName).toBe(true);
          expect(Buffer.from(attrs.lastName, 'utf8').equals(Buffer.from(lastName, 'utf8')), lastName).toBe(true);
        }
        const row = await s.db.kysely
          .selectFrom('user_invitations')
          .select(['first_name', 'last_name'])
          .where('id', '=', id)
          .executeTakeFirstOrThrow();
        expect([row.first_name, row.last_name]).toEqual([firstName, lastName]);
      }
    });
  });

  describe('nesting (A3)', () => {
    it('400 ENTITY_INVALID for a 1 MiB body of nested arrays, and the next request is answered', async () => {
      const res = await postBytes(Buffer.from('['.repeat(1024 * 1024)));
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ errors: [entityInvalid('The request body nests arrays and objects more than 64 levels deep')] });
      const next = await post(invitationBody({ email: email('after') }));
      expect(next.status).toBe(201);
    });

    it('400 ENTITY_INVALID for a document nested 65 levels deep; 64 levels reach the schema checks', async () => {
      const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
      // the document itself is one level, attributes two more
      const deep = (levels: number) =>
        `{"data":{"type":"userInvitations","attributes":{"email":"deep@text.example.com","firstName":${nested(levels - 3)}}}}`;
      const over = await postBytes(Buffer.from(deep(65)));
      expect(over.status).toBe(400);
      expect(over.body).toEqual({ errors: [entityInvalid('The request body nests arrays and objects more than 64 levels deep')] });
      const at = await postBytes(Buffer.from(deep(64)));
      expect(at.status).not.toBe(400);
      // brackets inside strings, escaped quotes included, are text, not nesting
      const names = { firstName: `[\\"${'['.repeat(80)}`, lastName: '{'.repeat(80) };
      const inString = JSON.stringify(invitationBody({ email: email('brackets'), ...names }));
      expect((await postBytes(Buffer.from(inString))).status).toBe(201);
    });
  });
});
