/**
 * Whole resources as the API must render them (without `fields`), for exact expectations: a
 * UserInvitation, and an App with every attribute and relationship the vendored spec lists.
 */
import { loadSpecDocument } from '../../src/spec/openapi.js';
import { PUBLIC_URL } from './harness.js';

export interface ExpectedInvitation {
  email: string;
  /** `invitationBody`'s defaults when not given: Jane Appleseed, DEVELOPER */
  firstName?: string;
  lastName?: string;
  roles?: string[];
  allAppsVisible: boolean;
  provisioningAllowed: boolean;
  expirationDate: string;
}

/**
 * A UserInvitation resource. Its visibleApps relationship is links only, unless `visibleApps` gives
 * the whole relationship object (as an include renders it).
 */
export function invitationResource(id: string, e: ExpectedInvitation, visibleApps?: object) {
  const self = `${PUBLIC_URL}/v1/userInvitations/${id}`;
  return {
    type: 'userInvitations',
    id,
    attributes: {
      email: e.email,
      firstName: e.firstName ?? 'Jane',
      lastName: e.lastName ?? 'Appleseed',
      expirationDate: e.expirationDate,
      roles: e.roles ?? ['DEVELOPER'],
      allAppsVisible: e.allAppsVisible,
      provisioningAllowed: e.provisioningAllowed,
    },
    relationships: { visibleApps: visibleApps ?? { links: { self: `${self}/relationships/visibleApps`, related: `${self}/visibleApps` } } },
    links: { self },
  };
}

const APP_SCHEMA = loadSpecDocument().components.schemas.App as {
  properties: {
    attributes: { properties: Record<string, unknown> };
    relationships: { properties: Record<string, { properties?: Record<string, unknown> }> };
  };
};

/** The App relationships of the spec; those with links are rendered (as links only, unless included). */
const APP_RELATIONSHIPS = Object.entries(APP_SCHEMA.properties.relationships.properties).map(([name, schema]) => ({
  name,
  hasLinks: schema.properties?.links !== undefined,
}));

const APP_ATTRIBUTE_NAMES = Object.keys(APP_SCHEMA.properties.attributes.properties);

export interface AppInfo {
  id: string;
  name: string;
  bundleId: string;
  sku: string;
  /** default: en-US */
  primaryLocale?: string;
}

/** The links of one relationship of an app. */
export function appRelationshipLinks(id: string, name: string) {
  const self = `${PUBLIC_URL}/v1/apps/${id}`;
  return { links: { self: `${self}/relationships/${name}`, related: `${self}/${name}` } };
}

/**
 * The whole App resource: our four attributes, every other spec attribute null, relationship links;
 * a relationship named in `included` (with its limit) carries empty linkage and paging as well.
 */
export function appResource(a: AppInfo, included: Record<string, number> = {}) {
  const attributes: Record<string, unknown> = {};
  for (const n of APP_ATTRIBUTE_NAMES) attributes[n] = null;
  Object.assign(attributes, { name: a.name, bundleId: a.bundleId, sku: a.sku, primaryLocale: a.primaryLocale ?? 'en-US' });
  const relationships: Record<string, unknown> = {};
  for (const r of APP_RELATIONSHIPS) {
    if (!r.hasLinks) continue;
    const limit = included[r.name];
    relationships[r.name] =
      limit === undefined
        ? appRelationshipLinks(a.id, r.name)
        : { ...appRelationshipLinks(a.id, r.name), meta: { paging: { total: 0, limit } }, data: [] };
  }
  return { type: 'apps', id: a.id, attributes, relationships, links: { self: `${PUBLIC_URL}/v1/apps/${a.id}` } };
}

export interface ExpectedSandboxTester {
  id: string;
  email: string;
  /** default: Anne Johnson, USA, Apple's defaults for the settings (docs/behavior.md B10.7) */
  firstName?: string;
  lastName?: string;
  territory?: string;
  interruptPurchases?: boolean;
  subscriptionRenewalRate?: string;
}

/** A SandboxTesterV2 resource as the API renders it without `fields`. */
export function sandboxTesterResource(e: ExpectedSandboxTester) {
  return {
    type: 'sandboxTesters',
    id: e.id,
    attributes: {
      firstName: e.firstName ?? 'Anne',
      lastName: e.lastName ?? 'Johnson',
      acAccountName: e.email,
      territory: e.territory ?? 'USA',
      applePayCompatible: true,
      interruptPurchases: e.interruptPurchases ?? false,
      subscriptionRenewalRate: e.subscriptionRenewalRate ?? 'MONTHLY_RENEWAL_EVERY_FIVE_MINUTES',
    },
    links: { self: `${PUBLIC_URL}/v2/sandboxTesters/${e.id}` },
  };
}
