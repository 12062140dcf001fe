import type { Sql } from "../../platform/database.ts";
import { hashApiKey, looksLikeApiKey } from "./api-keys/api-key-format.ts";
import type { Principal, Role } from "./principal.ts";
import type { TokenService } from "./token-service.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type AuthService = ReturnType<typeof createAuthService>;

/**
 * Turns a presented credential into a principal, checking the database every time: a disabled
 * account, a revoked or expired key, a token from before a password change stop working with
 * the next request. Each check is one primary-key or unique-index lookup.
 */
export function createAuthService(deps: { sql: Sql; tokens: TokenService }) {
  const { sql, tokens } = deps;

  async function byApiKey(key: string): Promise<Principal | null> {
    const [row] = await sql<{ key_id: string; user_id: string; role: Role }[]>`
      SELECT k.id AS key_id, u.id AS user_id, u.role
      FROM api_keys k JOIN users u ON u.id = k.user_id
      WHERE k.key_hash = ${await hashApiKey(key)} AND k.revoked_at IS NULL
        AND (k.expires_at IS NULL OR k.expires_at > now()) AND u.disabled_at IS NULL`;
    return row ? { userId: row.user_id, role: row.role, via: "api_key", keyId: row.key_id } : null;
  }

  async function byToken(token: string): Promise<Principal | null> {
    const claims = await tokens.verify(token);
    if (!claims || !UUID.test(claims.sub)) return null;
    const [row] = await sql<{ role: Role }[]>`
      SELECT role FROM users
      WHERE id = ${claims.sub} AND disabled_at IS NULL
        AND tokens_valid_after <= to_timestamp(${claims.iat})`;
    return row ? { userId: claims.sub, role: row.role, via: "token", keyId: null } : null;
  }

  return {
    /**
     * The principal of an `Authorization: Bearer` credential (a JWT or an API key) or of an
     * `X-API-Key` header (an API key only); null when it proves nothing.
     */
    async authenticate(
      credential: { bearer: string } | { apiKey: string },
    ): Promise<Principal | null> {
      if ("apiKey" in credential) {
        return looksLikeApiKey(credential.apiKey) ? byApiKey(credential.apiKey) : null;
      }
      return looksLikeApiKey(credential.bearer)
        ? byApiKey(credential.bearer)
        : byToken(credential.bearer);
    },
  };
}
