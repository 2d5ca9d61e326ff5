/**
 * Who may hold which roles and see which apps: docs/behavior.md A11 and A12, shared by invitations
 * and users. Produces every problem at once (one 409 error per offending attribute).
 */
import type { ApiError } from '../errors/api-error.js';
import { errors } from '../errors/catalogue.js';
import { ALL_APPS_ROLES, BASE_ROLES, isUserRole, type UserRole } from './roles.js';

export interface AccessInput {
  /** raw `roles` value: present on a create; on an update, null or undefined keep the current roles */
  roles: unknown;
  /** raw values; null and undefined both mean "not given" */
  allAppsVisible: unknown;
  provisioningAllowed: unknown;
  /** visible app ids given in the request (empty = not given) */
  visibleAppIds: readonly string[];
}

export interface Access {
  roles: UserRole[];
  allAppsVisible: boolean;
  provisioningAllowed: boolean;
  visibleAppIds: string[];
}

const VISIBLE_APPS = '/data/relationships/visibleApps';

export const ALL_APPS_DETAIL = "You cannot set visible apps for this user because the user's roles give them access to all apps.";

/** Validates `roles` (A11 except provisioning, which needs the flags). */
export function checkRoles(raw: unknown, problems: ApiError[]): UserRole[] | undefined {
  if (!Array.isArray(raw)) {
    problems.push(errors.attributeInvalid('roles', "'roles' must be an array of UserRole values"));
    return undefined;
  }
  if (raw.length === 0) {
    problems.push(errors.attributeInvalid('roles', 'At least one role is required'));
    return undefined;
  }
  const roles: UserRole[] = [];
  let ok = true;
  for (const r of raw) {
    if (!isUserRole(r)) {
      problems.push(errors.attributeInvalid('roles', `'${typeof r === 'string' ? r : JSON.stringify(r)}' is not a valid role`));
      ok = false;
    } else if (roles.includes(r)) {
      problems.push(errors.attributeInvalid('roles', `The role '${r}' is given more than once`));
      ok = false;
    } else {
      roles.push(r);
    }
  }
  if (!ok) return undefined;
  if (roles.includes('ACCOUNT_HOLDER')) {
    problems.push(errors.attributeInvalid('roles', 'The ACCOUNT_HOLDER role can not be assigned'));
    return undefined;
  }
  if (!roles.some((r) => BASE_ROLES.includes(r))) {
    problems.push(errors.attributeInvalid('roles', `At least one of the roles ${BASE_ROLES.join(', ')} is required`));
    return undefined;
  }
  if (roles.includes('ACCESS_TO_REPORTS') && !roles.some((r) => ['APP_MANAGER', 'DEVELOPER', 'MARKETING', 'SALES'].includes(r))) {
    problems.push(errors.attributeInvalid('roles', 'ACCESS_TO_REPORTS can only be given with APP_MANAGER, DEVELOPER, MARKETING or SALES'));
    return undefined;
  }
  if (roles.includes('CLOUD_MANAGED_APP_DISTRIBUTION') && !roles.some((r) => ['ADMIN', 'APP_MANAGER', 'DEVELOPER'].includes(r))) {
    problems.push(
      errors.attributeInvalid('roles', 'CLOUD_MANAGED_APP_DISTRIBUTION can only be given with ADMIN, APP_MANAGER or DEVELOPER'),
    );
    return undefined;
  }
  if (roles.includes('CLOUD_MANAGED_DEVELOPER_ID') && !roles.includes('ADMIN')) {
    problems.push(errors.attributeInvalid('roles', 'CLOUD_MANAGED_DEVELOPER_ID can only be given with ADMIN'));
    return undefined;
  }
  return roles;
}

function optionalBoolean(name: string, raw: unknown, problems: ApiError[]): boolean | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'boolean') {
    problems.push(errors.attributeInvalid(name, `'${name}' must be true, false or null`));
    return undefined;
  }
  return raw;
}

/**
 * Resolves roles and app visibility with their defaults, or adds the problems.
 * Returns undefined when anything is wrong.
 *
 * `current` is given on an update (PATCH /v1/users/{id}): what the request leaves out keeps its
 * current value instead of the create default, except that someone who comes to see all apps
 * (e.g. roles changed to ADMIN) has allAppsVisible true and loses their visible apps.
 */
export function resolveAccess(input: AccessInput, problems: ApiError[], current?: Access): Access | undefined {
  const before = problems.length;
  const rolesGiven = input.roles !== undefined && input.roles !== null;
  const roles = current && !rolesGiven ? current.roles : checkRoles(input.roles, problems);
  const givenAll = optionalBoolean('allAppsVisible', input.allAppsVisible, problems);
  const givenProvisioning = optionalBoolean('provisioningAllowed', input.provisioningAllowed, problems);
  if (!roles || problems.length > before) return undefined;

  const provisioningAllowed = givenProvisioning ?? current?.provisioningAllowed ?? roles.includes('ADMIN');
  const needsProvisioning = roles.filter((r) => r === 'CLOUD_MANAGED_APP_DISTRIBUTION' || r === 'CLOUD_MANAGED_DEVELOPER_ID');
  for (const r of needsProvisioning) {
    if (!provisioningAllowed) {
      // on an update that keeps the roles, what is wrong is the provisioningAllowed it sends
      problems.push(
        errors.attributeInvalid(
          rolesGiven ? 'roles' : 'provisioningAllowed',
          `${r} requires access to Certificates, Identifiers & Profiles (provisioningAllowed)`,
        ),
      );
    }
  }

  const seesAll = provisioningAllowed || roles.some((r) => ALL_APPS_ROLES.includes(r));
  const visibleAppIds = [...new Set(input.visibleAppIds)];
  let allAppsVisible: boolean;
  if (seesAll) {
    if (givenAll === false) {
      problems.push(
        errors.attributeInvalid('allAppsVisible', "A user with these roles or with provisioning access can't have app access limited"),
      );
    }
    if (visibleAppIds.length > 0) problems.push(errors.relationshipInvalid(VISIBLE_APPS, ALL_APPS_DETAIL));
    allAppsVisible = true;
  } else if (visibleAppIds.length > 0) {
    // "the same RELATIONSHIP.INVALID 409" (A12): fastlane quotes this detail for exactly this case (B6.16).
    if (givenAll === true) problems.push(errors.relationshipInvalid(VISIBLE_APPS, ALL_APPS_DETAIL));
    allAppsVisible = false;
  } else {
    allAppsVisible = givenAll ?? current?.allAppsVisible ?? true;
  }
  if (problems.length > before) return undefined;
  const apps = allAppsVisible ? [] : visibleAppIds.length > 0 ? visibleAppIds : [...(current?.visibleAppIds ?? [])];
  return { roles, allAppsVisible, provisioningAllowed, visibleAppIds: apps };
}

/**
 * A write to a user's visibleApps relationship changes only which apps they see; someone who sees
 * all apps (allAppsVisible) can be given none (A12). `pointer` is the linkage array in the request.
 */
export function checkVisibleAppSet(current: Access, appIds: readonly string[], pointer: string, problems: ApiError[]): void {
  if (current.allAppsVisible && appIds.length > 0) problems.push(errors.relationshipInvalid(pointer, ALL_APPS_DETAIL));
}

/**
 * One 409 per app id that names no app (A12), pointing at its place in the request:
 * `pointer` is the linkage array, e.g. `/data/relationships/visibleApps/data`.
 */
export function unknownAppProblems(appIds: readonly string[], found: ReadonlySet<string>, pointer: string): ApiError[] {
  const problems: ApiError[] = [];
  appIds.forEach((id, i) => {
    if (!found.has(id)) {
      const detail = `'${id}' is not a valid ID for this relationship. There is no app with this id.`;
      problems.push(errors.relationshipInvalid(`${pointer}/${i}`, detail));
    }
  });
  return problems;
}
