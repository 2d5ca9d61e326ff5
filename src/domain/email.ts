/** Email addresses: the same `email` format the spec's schemas use (ajv-formats), at most 254 characters. */
import { fullFormats } from 'ajv-formats/dist/formats.js';

const EMAIL = fullFormats.email as RegExp;

export function isValidEmail(value: string): boolean {
  if (value.length > 254) return false;
  const at = value.lastIndexOf('@');
  if (at < 1 || at > 64) return false;
  return EMAIL.test(value);
}

/** Who may hold an address (email_claims): a pending invitation, a user, or a sandbox tester. */
export type EmailOwner = 'invitation' | 'user' | 'sandboxTester';

/**
 * Why a team member can't have this email (A9): a pending invitation or a user has it, or it is a
 * sandbox tester's Apple Account, which is no one else's (A23). `holder`: who has it, if known.
 */
export function memberEmailTaken(email: string, holder: EmailOwner | undefined): string {
  return holder === 'sandboxTester'
    ? `The email '${email}' is the Apple Account of a sandbox tester of this team; it can't also belong to a team member`
    : `The email '${email}' already belongs to a pending invitation or a user of this team`;
}
