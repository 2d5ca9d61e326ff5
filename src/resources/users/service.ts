/**
 * Apple's rules for the team's users (docs/behavior.md A2, A11, A12, B7): reading them, changing their
 * roles and app visibility, removing them; and the Account Holder, whom the operator creates.
 * Everyone else joins by accepting an invitation (../user-invitations/activation.ts). Holds no SQL
 * and no HTTP.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../clock.js';
import type { Executor } from '../../db/schema.js';
import { checkRoles, checkVisibleAppSet, resolveAccess, unknownAppProblems, type Access } from '../../domain/access.js';
import { toApp } from '../../domain/app.js';
import { checkName } from '../../domain/names.js';
import { emailClaims } from '../../db/email-claims.js';
import { VisibleAppsReads } from '../../jsonapi/include.js';
import { isValidEmail, memberEmailTaken } from '../../domain/email.js';
import type { RequestInput } from '../../domain/request-input.js';
import type { UserRole } from '../../domain/roles.js';
import { ApiErrors, type ApiError } from '../../errors/api-error.js';
import { errors } from '../../errors/catalogue.js';
import type { KeysRepository } from '../../keys/repository.js';
import type { AppReader, AppsRepository } from '../apps/repository.js';
import type { UserAccessColumns, UserRow, UsersRepository } from './repository.js';

const TYPE = 'users';
const VISIBLE_APPS = '/data/relationships/visibleApps';

/**
 * What PATCH /v1/users/{id} asks to change (read by ./request.ts). Each value is the one the
 * request gives, checked on its own; undefined when left out, null, or refused (then the
 * RequestInput's problems say why): it keeps its current value.
 */
export interface UserUpdateInput {
  /** known roles, each once */
  roles: UserRole[] | undefined;
  allAppsVisible: boolean | undefined;
  provisioningAllowed: boolean | undefined;
  /** the visibleApps linkage, in order as given; empty: not given */
  visibleAppIds: string[];
}

/**
 * The Account Holder: the one person who holds the team's membership (B6.9). Kept simple: ADMIN's
 * powers besides, every app and Certificates, Identifiers & Profiles (docs/parity.md).
 */
export const ACCOUNT_HOLDER_ROLES: readonly UserRole[] = ['ACCOUNT_HOLDER', 'ADMIN'];

export interface User {
  id: string;
  username: string;
  firstName: string;
  lastName: string;
  roles: UserRole[];
  allAppsVisible: boolean;
  provisioningAllowed: boolean;
}

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    username: row.username,
    firstName: row.first_name,
    lastName: row.last_name,
    roles: JSON.parse(row.roles) as UserRole[],
    allAppsVisible: row.all_apps_visible === 1,
    provisioningAllowed: row.provisioning_allowed === 1,
  };
}

function isAccountHolder(roles: readonly UserRole[]): boolean {
  return roles.includes('ACCOUNT_HOLDER');
}

function accessColumns(access: Access): UserAccessColumns {
  return {
    roles: JSON.stringify(access.roles),
    all_apps_visible: access.allAppsVisible ? 1 : 0,
    provisioning_allowed: access.provisioningAllowed ? 1 : 0,
  };
}

/** A problem with what the operator asked the CLI for. */
export class UserInputError extends Error {
  override name = 'UserInputError';
}

/** What a write to the visibleApps relationship does with the apps it names. */
export type VisibleAppsChange = 'add' | 'replace' | 'remove';

export class UsersService {
  /** lists and visible apps */
  readonly reads: VisibleAppsReads<UserRow, User>;

  constructor(
    private readonly repo: UsersRepository,
    private readonly apps: AppsRepository,
    private readonly keys: KeysRepository,
    private readonly clock: Clock,
    appReads: AppReader = apps,
  ) {
    this.reads = new VisibleAppsReads(repo, async (ids) => (await appReads.findByIds(ids)).map(toApp), toUser);
  }

  async get(id: string): Promise<User> {
    const user = await this.find(id);
    if (!user) throw errors.notFound(TYPE, id);
    return user;
  }

  async find(id: string): Promise<User | undefined> {
    const row = await this.repo.findById(this.repo.db, id);
    return row && toUser(row);
  }

  async list(): Promise<User[]> {
    return (await this.repo.listAll()).map(toUser);
  }

  /**
   * The roles and name an individual key of this user acts with, read at every request so that
   * a change of roles applies at once; undefined once the user is gone (their keys answer 401).
   */
  async individualRoles(userId: string): Promise<{ roles: UserRole[]; name: string } | undefined> {
    const user = await this.find(userId);
    return user && { roles: user.roles, name: `${user.firstName} ${user.lastName}` };
  }

  private async accessOf(trx: Executor, row: UserRow): Promise<Access> {
    const user = toUser(row);
    const visibleAppIds = user.allAppsVisible ? [] : await this.repo.visibleAppIds(trx, row.id);
    return { roles: user.roles, allAppsVisible: user.allAppsVisible, provisioningAllowed: user.provisioningAllowed, visibleAppIds };
  }

  /**
   * PATCH /v1/users/{id}: roles, allAppsVisible, provisioningAllowed and visibleApps, its body read
   * by ./request.ts (which answers a document of the wrong shape with a 422); what the request
   * leaves out (or sends as null, or as an empty visibleApps) keeps its current value. Then the
   * user (404), then every 409 at once: the body's own problems first.
   */
  async update(id: string, request: RequestInput<UserUpdateInput>): Promise<User> {
    const { values: a, refused } = request;
    const appIds = a.visibleAppIds;

    return this.repo.transaction(async (trx) => {
      const row = await this.repo.findForUpdate(trx, id);
      if (!row) throw errors.notFound(TYPE, id);
      const problems = [...request.problems];
      const current = await this.accessOf(trx, row);
      let roles = a.roles;
      if (isAccountHolder(current.roles)) {
        // the Account Holder keeps every power: there is only one, and the API can't make another (B6.9)
        if (roles !== undefined) {
          problems.push(errors.attributeInvalid('roles', "The Account Holder's roles can not be changed"));
          roles = undefined;
        }
        if (a.provisioningAllowed === false) {
          problems.push(
            errors.attributeInvalid('provisioningAllowed', 'The Account Holder always has access to Certificates, Identifiers & Profiles'),
          );
        }
      }
      let access: Access | undefined;
      if (refused.has('allAppsVisible') || refused.has('provisioningAllowed')) {
        // a flag that is not a flag leaves no access to work out; given roles' own rules still apply
        if (roles !== undefined) checkRoles(roles, problems);
      } else if (!refused.has('roles')) {
        const given = { roles, allAppsVisible: a.allAppsVisible, provisioningAllowed: a.provisioningAllowed, visibleAppIds: appIds };
        access = resolveAccess(given, problems, current);
      }
      const found = await this.apps.findByIds([...new Set(appIds)], trx);
      problems.push(...unknownAppProblems(appIds, new Set(found.map((r) => r.id)), `${VISIBLE_APPS}/data`));
      if (problems.length > 0 || !access) throw new ApiErrors(problems);

      const columns = accessColumns(access);
      await this.repo.updateAccess(trx, id, columns);
      await this.repo.replaceVisibleApps(trx, id, access.visibleAppIds);
      return toUser({ ...row, ...columns });
    });
  }

  /**
   * POST, PATCH and DELETE /v1/users/{id}/relationships/visibleApps: add, replace or remove apps.
   * They change only which apps a user with limited access sees (A12); an app id that names no
   * app is a 409 wherever it stands.
   */
  async changeVisibleApps(id: string, appIds: readonly string[], change: VisibleAppsChange): Promise<void> {
    const unique = [...new Set(appIds)];
    await this.repo.transaction(async (trx) => {
      const row = await this.repo.findForUpdate(trx, id);
      if (!row) throw errors.notFound(TYPE, id);
      const problems: ApiError[] = [];
      const found = await this.apps.findByIds(unique, trx);
      problems.push(...unknownAppProblems(appIds, new Set(found.map((r) => r.id)), '/data'));
      if (change !== 'remove') checkVisibleAppSet(await this.accessOf(trx, row), appIds, '/data', problems);
      if (problems.length > 0) throw new ApiErrors(problems);
      if (change === 'add') await this.repo.addVisibleApps(trx, id, unique);
      else if (change === 'replace') await this.repo.replaceVisibleApps(trx, id, unique);
      else await this.repo.removeVisibleApps(trx, id, unique);
    });
  }

  /**
   * DELETE /v1/users/{id}: the user leaves the team. Their email can be invited again and their
   * individual keys are revoked. The Account Holder can't be removed: 403 (the operation's spec
   * lists no 409).
   */
  async remove(id: string): Promise<void> {
    await this.repo.transaction(async (trx) => {
      const row = await this.repo.findForUpdate(trx, id);
      if (!row) throw errors.notFound(TYPE, id);
      if (isAccountHolder(toUser(row).roles)) throw errors.forbidden('The Account Holder can not be removed from the team');
      await this.repo.delete(trx, row);
      await this.keys.revokeForUser(trx, row.id, this.clock.now().toISOString());
    });
  }

  /**
   * The team's Account Holder (`asc-access users create-account-holder`): once per team. Their
   * email is claimed like an accepted invitee's, so it can't be invited.
   */
  async createAccountHolder(input: { email: string; firstName: string; lastName: string }): Promise<User> {
    const problems: ApiError[] = [];
    const email = input.email.trim();
    if (!isValidEmail(email)) problems.push(errors.attributeInvalid('email', `'${email}' is not a valid email address`));
    const firstName = checkName('firstName', input.firstName, problems);
    const lastName = checkName('lastName', input.lastName, problems);
    if (problems.length > 0 || !firstName || !lastName) throw new UserInputError(problems.map((p) => p.message).join('; '));

    const row: UserRow = {
      id: randomUUID(),
      username: email,
      username_key: email.toLowerCase(),
      first_name: firstName,
      last_name: lastName,
      last_name_key: lastName.toLowerCase(),
      roles: JSON.stringify(ACCOUNT_HOLDER_ROLES),
      all_apps_visible: 1,
      provisioning_allowed: 1,
      created_at: this.clock.now().toISOString(),
    };
    await this.repo.transaction(async (trx) => {
      const holder = await this.repo.findAccountHolder(trx);
      if (holder) throw new UserInputError(`The team has an Account Holder already (${holder.username}); there can be only one`);
      if (!(await emailClaims.claim(trx, row.username_key, 'user', row.id))) {
        throw new UserInputError(memberEmailTaken(email, (await emailClaims.find(trx, row.username_key))?.owner_type));
      }
      await this.repo.insert(trx, row, []);
    });
    return toUser(row);
  }
}
