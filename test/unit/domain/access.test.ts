/** resolveAccess on an update (`current` given) and checkVisibleAppSet: docs/behavior.md A11, A12, B7.3. */
import { describe, expect, it } from 'vitest';
import { checkVisibleAppSet, resolveAccess, type Access, type AccessInput } from '../../../src/domain/access.js';
import type { ApiError } from '../../../src/errors/api-error.js';

const none: AccessInput = { roles: undefined, allAppsVisible: undefined, provisioningAllowed: undefined, visibleAppIds: [] };

function update(current: Access, input: Partial<AccessInput>) {
  const problems: ApiError[] = [];
  const access = resolveAccess({ ...none, ...input }, problems, current);
  return { access, problems: problems.map((p) => [p.code, (p.source as { pointer?: string } | undefined)?.pointer]) };
}

const limited: Access = { roles: ['DEVELOPER'], allAppsVisible: false, provisioningAllowed: false, visibleAppIds: ['1', '2'] };
const everyApp: Access = { roles: ['DEVELOPER'], allAppsVisible: true, provisioningAllowed: false, visibleAppIds: [] };

describe('resolveAccess with the current access (an update)', () => {
  it('keeps what is not given, null included', () => {
    expect(update(limited, {})).toEqual({ access: limited, problems: [] });
    expect(update(limited, { roles: null, allAppsVisible: null, provisioningAllowed: null })).toEqual({ access: limited, problems: [] });
    expect(update(limited, { roles: ['SALES'] }).access).toEqual({ ...limited, roles: ['SALES'] });
  });

  it('keeps provisioningAllowed when the roles become ADMIN, but shows all apps and drops the visible ones', () => {
    expect(update(limited, { roles: ['ADMIN'] }).access).toEqual({
      roles: ['ADMIN'],
      allAppsVisible: true,
      provisioningAllowed: false,
      visibleAppIds: [],
    });
    expect(update(limited, { provisioningAllowed: true }).access).toEqual({
      ...limited,
      allAppsVisible: true,
      provisioningAllowed: true,
      visibleAppIds: [],
    });
  });

  it('visible apps replace the set and limit access; allAppsVisible true clears it', () => {
    expect(update(everyApp, { visibleAppIds: ['3', '3'] }).access).toEqual({ ...everyApp, allAppsVisible: false, visibleAppIds: ['3'] });
    expect(update(limited, { allAppsVisible: true }).access).toEqual({ ...limited, allAppsVisible: true, visibleAppIds: [] });
    expect(update(everyApp, { allAppsVisible: false }).access).toEqual({ ...everyApp, allAppsVisible: false, visibleAppIds: [] });
  });

  it('refuses limited access for those who see all apps, and apps with allAppsVisible true (A12)', () => {
    expect(update(limited, { roles: ['FINANCE'], allAppsVisible: false, visibleAppIds: ['1'] })).toEqual({
      access: undefined,
      problems: [
        ['ENTITY_ERROR.ATTRIBUTE.INVALID', '/data/attributes/allAppsVisible'],
        ['ENTITY_ERROR.RELATIONSHIP.INVALID', '/data/relationships/visibleApps'],
      ],
    });
    expect(update(limited, { allAppsVisible: true, visibleAppIds: ['1'] }).problems).toEqual([
      ['ENTITY_ERROR.RELATIONSHIP.INVALID', '/data/relationships/visibleApps'],
    ]);
  });

  it('validates given roles only: current roles are taken as they are', () => {
    const holder: Access = { roles: ['ACCOUNT_HOLDER', 'ADMIN'], allAppsVisible: true, provisioningAllowed: true, visibleAppIds: [] };
    expect(update(holder, {})).toEqual({ access: holder, problems: [] });
    expect(update(limited, { roles: ['ACCOUNT_HOLDER', 'ADMIN'] }).problems).toEqual([
      ['ENTITY_ERROR.ATTRIBUTE.INVALID', '/data/attributes/roles'],
    ]);
  });

  it('blames provisioningAllowed when the kept roles need it', () => {
    const cloud: Access = {
      roles: ['DEVELOPER', 'CLOUD_MANAGED_APP_DISTRIBUTION'],
      allAppsVisible: true,
      provisioningAllowed: true,
      visibleAppIds: [],
    };
    expect(update(cloud, { provisioningAllowed: false }).problems).toEqual([
      ['ENTITY_ERROR.ATTRIBUTE.INVALID', '/data/attributes/provisioningAllowed'],
    ]);
    expect(update(cloud, { roles: ['DEVELOPER', 'CLOUD_MANAGED_APP_DISTRIBUTION'], provisioningAllowed: false }).problems).toEqual([
      ['ENTITY_ERROR.ATTRIBUTE.INVALID', '/data/attributes/roles'],
    ]);
  });
});

describe('checkVisibleAppSet', () => {
  it('refuses apps for someone with allAppsVisible, at the given pointer; an empty set always passes', () => {
    const problems: ApiError[] = [];
    checkVisibleAppSet(everyApp, [], '/data', problems);
    checkVisibleAppSet(limited, ['9'], '/data', problems);
    expect(problems).toEqual([]);
    checkVisibleAppSet(everyApp, ['9'], '/data', problems);
    expect(problems.map((p) => [p.code, p.source])).toEqual([['ENTITY_ERROR.RELATIONSHIP.INVALID', { pointer: '/data' }]]);
  });
});
