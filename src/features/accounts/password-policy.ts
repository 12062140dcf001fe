import { COMMON_PASSWORDS } from "./common-passwords.ts";

export const MIN_PASSWORD_LENGTH = 12;
// Long enough for any passphrase; short enough that hashing stays bounded.
export const MAX_PASSWORD_LENGTH = 1024;

/**
 * Why `password` may not be used, or null when it may. Length, then the common-password list,
 * then passwords that are one repeated character or the account's own email.
 *
 * @example
 * passwordProblem("short", "a@b.c"); // "Expected a password of at least 12 characters but received 5"
 */
export function passwordProblem(password: string, email: string): string | null {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH || length > MAX_PASSWORD_LENGTH) {
    return `Expected a password of ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters but received ${length}`;
  }
  const lower = password.toLowerCase();
  const address = email.toLowerCase();
  if (
    COMMON_PASSWORDS.has(lower) ||
    new Set(lower).size === 1 ||
    lower === address ||
    lower === address.split("@")[0]
  ) {
    return "Expected a password that is not among the most common ones (nor the email address)";
  }
  return null;
}
