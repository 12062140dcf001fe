import { sha256Hex, toBase64Url } from "../../core/lib/encoding.ts";
import { isUuid } from "../../core/lib/uuid.ts";
import type { Sql } from "../../platform/database.ts";
import { hashApiKey, looksLikeApiKey } from "./api-keys/api-key-format.ts";
import type { Principal, Role } from "./principal.ts";
import type { TokenService } from "./token-service.ts";

/** The web app's session cookie (set by the sign-in forms, read as a credential by the API). */
export const SESSION_COOKIE = "pictor_session";

// How long a session lasts at most on the server; the cookie itself has no expiry, so the
// browser forgets it when it closes (a session cookie), whichever comes first.
const SESSION_LIFETIME_SECONDS = 7 * 24 * 3600;

// 32 random bytes in base64url.
const SESSION_TOKEN = /^[A-Za-z0-9_-]{43}$/;

const sessionHash = (token: string) => sha256Hex(new TextEncoder().encode(token));

/** A credential as the request presented it. */
export type Credential = { bearer: string } | { apiKey: string } | { session: string };

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
    if (!claims || !isUuid(claims.sub)) return null;
    const [row] = await sql<{ role: Role }[]>`
      SELECT role FROM users
      WHERE id = ${claims.sub} AND disabled_at IS NULL
        AND tokens_valid_after <= to_timestamp(${claims.iat})`;
    return row ? { userId: claims.sub, role: row.role, via: "token", keyId: null } : null;
  }

  async function bySession(token: string): Promise<Principal | null> {
    if (!SESSION_TOKEN.test(token)) return null;
    const [row] = await sql<{ user_id: string; role: Role }[]>`
      SELECT u.id AS user_id, u.role
      FROM sessions s JOIN users u ON u.id = s.user_id
      WHERE s.token_hash = ${await sessionHash(token)} AND s.expires_at > now()
        AND u.disabled_at IS NULL`;
    return row ? { userId: row.user_id, role: row.role, via: "session", keyId: null } : null;
  }

  return {
    /**
     * The principal of an `Authorization: Bearer` credential (a JWT or an API key), of an
     * `X-API-Key` header (an API key only) or of the session cookie; null when it proves nothing.
     */
    async authenticate(credential: Credential): Promise<Principal | null> {
      if ("session" in credential) return bySession(credential.session);
      if ("apiKey" in credential) {
        return looksLikeApiKey(credential.apiKey) ? byApiKey(credential.apiKey) : null;
      }
      return looksLikeApiKey(credential.bearer)
        ? byApiKey(credential.bearer)
        : byToken(credential.bearer);
    },

    /**
     * Opens a session for `userId` (whose password was just proven): the token to put in the
     * cookie. The user's expired sessions are dropped on the way.
     */
    async openSession(userId: string): Promise<string> {
      const token = toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
      await sql`DELETE FROM sessions WHERE user_id = ${userId} AND expires_at <= now()`;
      await sql`
        INSERT INTO sessions (token_hash, user_id, expires_at)
        VALUES (${await sessionHash(token)}, ${userId},
                now() + make_interval(secs => ${SESSION_LIFETIME_SECONDS}))`;
      return token;
    },

    /** Ends the session of `token` (logging out): its cookie proves nothing any more. */
    async closeSession(token: string): Promise<void> {
      if (!SESSION_TOKEN.test(token)) return;
      await sql`DELETE FROM sessions WHERE token_hash = ${await sessionHash(token)}`;
    },
  };
}
