/** Apple's UserRole values (spec enum UserRole) and the rules between them (docs/behavior.md A11). */
export const USER_ROLES = [
  'ADMIN',
  'FINANCE',
  'ACCOUNT_HOLDER',
  'SALES',
  'MARKETING',
  'APP_MANAGER',
  'DEVELOPER',
  'ACCESS_TO_REPORTS',
  'CUSTOMER_SUPPORT',
  'CREATE_APPS',
  'CLOUD_MANAGED_DEVELOPER_ID',
  'CLOUD_MANAGED_APP_DISTRIBUTION',
  'GENERATE_INDIVIDUAL_KEYS',
] as const;

export type UserRole = (typeof USER_ROLES)[number];

export function isUserRole(value: unknown): value is UserRole {
  return typeof value === 'string' && (USER_ROLES as readonly string[]).includes(value);
}

export const BASE_ROLES: readonly UserRole[] = ['ADMIN', 'FINANCE', 'APP_MANAGER', 'DEVELOPER', 'MARKETING', 'SALES', 'CUSTOMER_SUPPORT'];

/** A team API key has exactly one of these roles. */
export const TEAM_KEY_ROLES: readonly UserRole[] = BASE_ROLES;

/**
 * Roles that may read and change sandbox testers: "Account Holder, Admin, App Manager, or
 * Developer" in Apple's help on Sandbox Apple Accounts (docs/behavior.md A19, B10.6).
 */
export const SANDBOX_TESTER_ROLES: readonly UserRole[] = ['ACCOUNT_HOLDER', 'ADMIN', 'APP_MANAGER', 'DEVELOPER'];

/** Roles that see every app and can't have app access limited (docs/behavior.md A12, B6.7). */
export const ALL_APPS_ROLES: readonly UserRole[] = ['ADMIN', 'FINANCE', 'ACCESS_TO_REPORTS'];

/** Plain words for a role, for emails and pages. */
export const ROLE_NAMES: Record<UserRole, string> = {
  ADMIN: 'Admin',
  FINANCE: 'Finance',
  ACCOUNT_HOLDER: 'Account Holder',
  SALES: 'Sales',
  MARKETING: 'Marketing',
  APP_MANAGER: 'App Manager',
  DEVELOPER: 'Developer',
  ACCESS_TO_REPORTS: 'Access to Reports',
  CUSTOMER_SUPPORT: 'Customer Support',
  CREATE_APPS: 'Create Apps',
  CLOUD_MANAGED_DEVELOPER_ID: 'Cloud-Managed Developer ID Certificates',
  CLOUD_MANAGED_APP_DISTRIBUTION: 'Cloud-Managed Distribution Certificates',
  GENERATE_INDIVIDUAL_KEYS: 'Generate Individual API Keys',
};
