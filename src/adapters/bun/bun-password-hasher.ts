import { ARGON2_PARAMS, type PasswordHasher } from "../../platform/password-hasher.ts";

/**
 * The Bun adapter: Bun.password's native argon2id (off the event loop), with the same
 * parameters as the portable one so each verifies the other's hashes.
 *
 * @example
 * const hash = await bunPasswordHasher().hash("correct horse battery"); // "$argon2id$v=19$m=19456,t=2,p=1$…"
 */
export function bunPasswordHasher(): PasswordHasher {
  return {
    hash: (password) =>
      Bun.password.hash(password, {
        algorithm: "argon2id",
        memoryCost: ARGON2_PARAMS.memoryKiB,
        timeCost: ARGON2_PARAMS.iterations,
      }),
    async verify(password, hash) {
      try {
        return await Bun.password.verify(password, hash);
      } catch {
        return false;
      }
    },
  };
}
