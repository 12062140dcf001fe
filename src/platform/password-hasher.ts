import { argon2id, argon2Verify } from "hash-wasm";

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
