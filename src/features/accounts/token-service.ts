import { toBase64Url } from "../../core/lib/encoding.ts";
import { type Clock, systemClock } from "../../platform/clock.ts";
import type { Sql } from "../../platform/database.ts";
import type { Logger } from "../../platform/logger.ts";
import { type AccessClaims, issueAccessToken, type SigningKey, verifyAccessToken } from "./jwt.ts";

export type TokenResponse = { access_token: string; token_type: "bearer"; expires_in: number };

export type TokenService = ReturnType<typeof createTokenService>;

const GENERATED_KID = "generated-1";

/**
 * Issues and checks access tokens. With configured keys (JWT_KEYS) the first signs and all
 * verify; without, one key is generated once and kept in the database, so the zero-setup start
 * keeps its users logged in across restarts.
 */
export function createTokenService(deps: {
  sql: Sql;
  keys: readonly SigningKey[];
  ttlSeconds: number;
  logger: Logger;
  /** What tokens' issue and expiry times are set and checked against. */
  clock?: Clock;
}) {
  const { sql, ttlSeconds, logger, clock = systemClock } = deps;
  let keyring: Promise<readonly SigningKey[]> | null =
    deps.keys.length > 0 ? Promise.resolve(deps.keys) : null;

  async function storedKeys(): Promise<readonly SigningKey[]> {
    const secret = toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
    await sql`
      INSERT INTO signing_keys (kid, secret) VALUES (${GENERATED_KID}, ${secret})
      ON CONFLICT (kid) DO NOTHING`;
    const rows = await sql<
      SigningKey[]
    >`SELECT kid, secret FROM signing_keys ORDER BY created_at DESC`;
    logger.warn("JWT_KEYS is not set: access tokens are signed with a key kept in the database", {
      kid: rows[0]?.kid,
    });
    return rows;
  }

  function keys(): Promise<readonly SigningKey[]> {
    keyring ??= storedKeys().catch((err: unknown) => {
      keyring = null; // the database may answer next time
      throw err;
    });
    return keyring;
  }

  return {
    ttlSeconds,

    async issue(userId: string): Promise<TokenResponse> {
      const [signing] = await keys();
      if (!signing) throw new Error("no signing key");
      const { token } = await issueAccessToken(signing, userId, ttlSeconds, clock.now());
      return { access_token: token, token_type: "bearer", expires_in: ttlSeconds };
    },

    async verify(token: string): Promise<AccessClaims | null> {
      return verifyAccessToken(token, await keys(), clock.now());
    },
  };
}
