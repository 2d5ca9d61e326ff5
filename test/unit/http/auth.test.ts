import { describe, expect, it } from 'vitest';
import type { UserRole } from '../../../src/domain/roles.js';
import { mayManageSandboxTesters, mayWrite, scopeAllows, type RequestTarget } from '../../../src/http/auth.js';

const get = (path: string, query = ''): RequestTarget => ({ method: 'GET', path, query });

describe('scopeAllows', () => {
  it('matches method and path', () => {
    expect(scopeAllows(['GET /v1/userInvitations'], get('/v1/userInvitations'))).toBe(true);
    expect(scopeAllows(['GET /v1/userInvitations'], get('/v1/apps'))).toBe(false);
    expect(scopeAllows(['GET /v1/userInvitations'], { method: 'POST', path: '/v1/userInvitations', query: '' })).toBe(false);
    expect(scopeAllows(['POST /v1/userInvitations'], { method: 'POST', path: '/v1/userInvitations', query: '' })).toBe(true);
  });

  it('passes when any one entry matches', () => {
    expect(scopeAllows(['GET /v1/apps', 'GET /v1/userInvitations'], get('/v1/userInvitations'))).toBe(true);
  });

  it('ignores the order of query parameters and compares them decoded', () => {
    const scope = ['GET /v1/userInvitations?filter[roles]=ADMIN&filter[email]=a@b.c'];
    expect(scopeAllows(scope, get('/v1/userInvitations', 'filter%5Bemail%5D=a%40b.c&filter[roles]=ADMIN'))).toBe(true);
    expect(scopeAllows(scope, get('/v1/userInvitations', 'filter[roles]=ADMIN&filter[email]=a@b.c'))).toBe(true);
  });

  it('ignores limit, cursor and sort on either side', () => {
    expect(scopeAllows(['GET /v1/userInvitations'], get('/v1/userInvitations', 'limit=5&cursor=abc&sort=-email'))).toBe(true);
    expect(scopeAllows(['GET /v1/userInvitations?limit=200&sort=email'], get('/v1/userInvitations'))).toBe(true);
  });

  it('needs the same other parameters and values', () => {
    const scope = ['GET /v1/userInvitations?filter[roles]=ADMIN'];
    expect(scopeAllows(scope, get('/v1/userInvitations'))).toBe(false);
    expect(scopeAllows(scope, get('/v1/userInvitations', 'filter[roles]=DEVELOPER'))).toBe(false);
    expect(scopeAllows(scope, get('/v1/userInvitations', 'filter[roles]=ADMIN&include=visibleApps'))).toBe(false);
    expect(scopeAllows(['GET /v1/userInvitations'], get('/v1/userInvitations', 'include=visibleApps'))).toBe(false);
  });

  it('rejects scopes that are not a non-empty array of "METHOD path" strings', () => {
    const target = get('/v1/userInvitations');
    expect(scopeAllows([], target)).toBe(false);
    expect(scopeAllows('GET /v1/userInvitations', target)).toBe(false);
    expect(scopeAllows({ 0: 'GET /v1/userInvitations' }, target)).toBe(false);
    expect(scopeAllows([42, null], target)).toBe(false);
    expect(scopeAllows(['/v1/userInvitations'], target)).toBe(false);
    expect(scopeAllows([' GET /v1/userInvitations'], target)).toBe(false);
  });

  it('never matches a request whose query cannot be decoded', () => {
    expect(scopeAllows(['GET /v1/userInvitations?filter[email]=%'], get('/v1/userInvitations', 'filter[email]=%'))).toBe(false);
  });
});

describe('mayWrite', () => {
  it('lets only ADMIN team keys write', () => {
    expect(mayWrite({ keyId: 'K', name: 'n', kind: 'team', roles: ['ADMIN'] })).toBe(true);
    for (const role of ['FINANCE', 'APP_MANAGER', 'DEVELOPER', 'MARKETING', 'SALES', 'CUSTOMER_SUPPORT'] as const) {
      expect(mayWrite({ keyId: 'K', name: 'n', kind: 'team', roles: [role] })).toBe(false);
    }
  });

  it('lets individual keys of ADMIN or ACCOUNT_HOLDER users write', () => {
    expect(mayWrite({ keyId: 'K', name: 'n', kind: 'individual', roles: ['DEVELOPER', 'ADMIN'], userId: 'u' })).toBe(true);
    expect(mayWrite({ keyId: 'K', name: 'n', kind: 'individual', roles: ['ACCOUNT_HOLDER'], userId: 'u' })).toBe(true);
    expect(mayWrite({ keyId: 'K', name: 'n', kind: 'individual', roles: ['APP_MANAGER', 'CREATE_APPS'], userId: 'u' })).toBe(false);
  });
});

describe('mayManageSandboxTesters (A19)', () => {
  it('lets team keys of ADMIN, APP_MANAGER and DEVELOPER read and write sandbox testers, no other role', () => {
    for (const role of ['ADMIN', 'APP_MANAGER', 'DEVELOPER'] as const) {
      expect(mayManageSandboxTesters({ keyId: 'K', name: 'n', kind: 'team', roles: [role] }), role).toBe(true);
    }
    for (const role of ['FINANCE', 'MARKETING', 'SALES', 'CUSTOMER_SUPPORT'] as const) {
      expect(mayManageSandboxTesters({ keyId: 'K', name: 'n', kind: 'team', roles: [role] }), role).toBe(false);
    }
  });

  it('lets individual keys of users with one of those roles or ACCOUNT_HOLDER; add-ons alone are not enough', () => {
    const individual = (roles: UserRole[]) => mayManageSandboxTesters({ keyId: 'K', name: 'n', kind: 'individual', roles, userId: 'u' });
    expect(individual(['ACCOUNT_HOLDER', 'ADMIN'])).toBe(true);
    expect(individual(['MARKETING', 'DEVELOPER'])).toBe(true);
    expect(individual(['SALES', 'ACCESS_TO_REPORTS', 'CREATE_APPS'])).toBe(false);
  });
});
