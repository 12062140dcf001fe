import { argon2id, argon2Verify } from "hash-wasm";
import { COMMON_PASSWORDS } from "./common-passwords.ts";

/**
 * Hashes and checks passwords. Every implementation writes and reads PHC strings
 * (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), so hashes made by one adapter verify with another.
 */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Constant-time comparison; false (never a throw) for a malformed hash. */
  verify(password: string, hash: string): Promise<boolean>;
}

/**
 * OWASP's first argon2id recommendation (Password Storage Cheat Sheet): 19 MiB, 2 passes, one
 * lane. Light enough for an edge isolate's memory, and about 50–100 ms of one core per check.
 */
export const ARGON2_PARAMS = { memoryKiB: 19_456, iterations: 2, parallelism: 1 } as const;

export const MIN_PASSWORD_LENGTH = 12;
// Long enough for any passphrase; short enough that hashing stays bounded.
export const MAX_PASSWORD_LENGTH = 1024;

/**
 * The portable adapter: argon2id in WebAssembly (hash-wasm embeds its module, nothing is
 * fetched), for runtimes without a native argon2 such as edge isolates.
 *
 * @example
 * const hasher = wasmPasswordHasher();
 * const hash = await hasher.hash("correct horse battery"); // "$argon2id$v=19$m=19456,t=2,p=1$…"
 * await hasher.verify("correct horse battery", hash); // true
 */
export function wasmPasswordHasher(): PasswordHasher {
  return {
    hash: (password) =>
      argon2id({
        password,
        salt: crypto.getRandomValues(new Uint8Array(16)),
        parallelism: ARGON2_PARAMS.parallelism,
        iterations: ARGON2_PARAMS.iterations,
        memorySize: ARGON2_PARAMS.memoryKiB,
        hashLength: 32,
        outputType: "encoded",
      }),
    async verify(password, hash) {
      try {
        return await argon2Verify({ password, hash });
      } catch {
        return false;
      }
    },
  };
}

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
