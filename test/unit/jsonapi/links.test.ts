import { describe, expect, it } from 'vitest';
import { encodeQuery, linkTo, nextLink } from '../../../src/jsonapi/links.js';

const BASE = 'https://asc.example.test';

describe('encodeQuery', () => {
  it('percent-encodes brackets, commas, @, + and spaces in names and values', () => {
    expect(
      encodeQuery([
        ['filter[email]', 'a+b@c.d'],
        ['fields[userInvitations]', 'email,roles'],
        ['q', 'x y'],
      ]),
    ).toBe('filter%5Bemail%5D=a%2Bb%40c.d&fields%5BuserInvitations%5D=email%2Croles&q=x%20y');
  });

  it('is empty for no pairs', () => {
    expect(encodeQuery([])).toBe('');
  });
});

describe('linkTo', () => {
  it('is bare without a query', () => {
    expect(linkTo(BASE, '/v1/userInvitations')).toBe('https://asc.example.test/v1/userInvitations');
  });

  it('round-trips through a URL parser without loss', () => {
    const pairs = [
      ['filter[email]', 'jane+1@example.com'],
      ['sort', '-email,lastName'],
    ] as const;
    const link = linkTo(BASE, '/v1/userInvitations', pairs);
    expect(link).toBe('https://asc.example.test/v1/userInvitations?filter%5Bemail%5D=jane%2B1%40example.com&sort=-email%2ClastName');
    const url = new URL(link);
    expect([...url.searchParams]).toEqual(pairs.map((p) => [...p]));
    // a valid uri-reference: nothing outside the unreserved set and percent-escapes in the query
    expect(url.search.slice(1)).toMatch(/^([A-Za-z0-9\-._~=&]|%[0-9A-F]{2})*$/);
  });
});

describe('nextLink', () => {
  it('puts cursor first and appends limit when the request had none', () => {
    expect(nextLink(BASE, '/v1/apps', [['sort', 'name']], 'CUR.sor', 20)).toBe(
      'https://asc.example.test/v1/apps?cursor=CUR.sor&sort=name&limit=20',
    );
  });

  it("keeps the request's limit in place and replaces an old cursor", () => {
    expect(
      nextLink(
        BASE,
        '/v1/apps',
        [
          ['limit', '2'],
          ['cursor', 'old'],
          ['filter[id]', '1,2'],
        ],
        'new',
        2,
      ),
    ).toBe('https://asc.example.test/v1/apps?cursor=new&limit=2&filter%5Bid%5D=1%2C2');
  });

  it('carries only the cursor and limit for a bare request', () => {
    expect(nextLink(BASE, '/v1/apps', [], 'c', 20)).toBe('https://asc.example.test/v1/apps?cursor=c&limit=20');
  });
});
