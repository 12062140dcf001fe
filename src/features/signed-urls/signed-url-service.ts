import type { SigningKeySetting } from "../../config/config.ts";
import { importHmacKey, toBase64Url } from "../../core/lib/encoding.ts";
import { ApiError } from "../../platform/api-error.ts";
import { type Clock, systemClock } from "../../platform/clock.ts";
import type { Sql } from "../../platform/database.ts";
import type { Logger } from "../../platform/logger.ts";
import type { Principal, Role } from "../accounts/index.ts";
import { signableTarget } from "./signable.ts";
import { canonicalRequest, SIGNATURE_PARAMS, signText, verifyText } from "./signature.ts";

/** How long a signer's "enabled, with this role" is believed before it is read again. */
export const SIGNER_CACHE_MS = 5000;
// Signers and verified URLs remembered at most; past it the memory starts over (each costs one
// lookup or one HMAC again).
const MAX_REMEMBERED = 10_000;
const GENERATED_KID = "generated-1";

export type SignedUrl = { url: string; expires_at: string };

/** What a verified signed URL grants: its signer's access, until it expires. */
export type SignedAccess = { principal: Principal; secondsLeft: number };

export type SignedUrlService = ReturnType<typeof createSignedUrlService>;

const forbidden = (detail: string) => new ApiError("forbidden", detail);

/**
 * Signs and verifies URLs that carry their own authorisation (HMAC-SHA256 over the method, the
 * path, the canonical query and the signer's id), for `<img>`, email links, `EventSource` and
 * CDNs. With configured keys (URL_SIGNING_KEYS) the first signs and all verify; without, one key
 * is generated once and kept in the database. Verifying costs one HMAC and, at most every
 * SIGNER_CACHE_MS per signer, one primary-key lookup of whether the signer is still enabled: a
 * disabled signer's URLs stop working within that time.
 *
 * @example
 * const signed = createSignedUrlService({ sql, keys: [], publicUrl, maxTtlSeconds: 31536000, logger });
 * const { url } = await signed.sign(userId, "/v1/images/…/render?w=400", 3600);
 */
export function createSignedUrlService(deps: {
  sql: Sql;
  keys: readonly SigningKeySetting[];
  publicUrl: string;
  maxTtlSeconds: number;
  logger: Logger;
  clock?: Clock;
}) {
  const { sql, publicUrl, maxTtlSeconds, logger, clock = systemClock } = deps;
  type Key = { kid: string; key: CryptoKey };
  const imported = (keys: readonly SigningKeySetting[]) =>
    Promise.all(keys.map(async (k) => ({ kid: k.kid, key: await importHmacKey(k.secret) })));
  let keyring: Promise<readonly Key[]> | null = deps.keys.length > 0 ? imported(deps.keys) : null;
  const signers = new Map<string, { role: Role | null; until: number }>();
  // URLs whose signature checked out, by their exact path and query: the same bytes verify the
  // same way every time, so a URL fetched again (every <img> of a page, a CDN revalidating)
  // costs a map lookup instead of an HMAC. Expiry and the signer are still checked each time.
  const verified = new Map<string, { signer: string; expiresAt: number }>();

  async function storedKeys(): Promise<readonly Key[]> {
    const secret = toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
    await sql`
      INSERT INTO url_signing_keys (kid, secret) VALUES (${GENERATED_KID}, ${secret})
      ON CONFLICT (kid) DO NOTHING`;
    const rows = await sql<SigningKeySetting[]>`
      SELECT kid, secret FROM url_signing_keys ORDER BY created_at DESC`;
    logger.info("URL_SIGNING_KEYS is not set: URLs are signed with a key kept in the database", {
      kid: rows[0]?.kid,
    });
    return imported(rows);
  }

  function keys(): Promise<readonly Key[]> {
    keyring ??= storedKeys().catch((err: unknown) => {
      keyring = null; // the database may answer next time
      throw err;
    });
    return keyring;
  }

  /** The signer's role while they are enabled, else null; believed for SIGNER_CACHE_MS. */
  async function signerRole(userId: string): Promise<Role | null> {
    const now = clock.now();
    const known = signers.get(userId);
    if (known && known.until > now) return known.role;
    const [row] = await sql<{ role: Role }[]>`
      SELECT role FROM users WHERE id = ${userId} AND disabled_at IS NULL`;
    if (signers.size >= MAX_REMEMBERED) signers.clear();
    signers.set(userId, { role: row?.role ?? null, until: now + SIGNER_CACHE_MS });
    return row?.role ?? null;
  }

  return {
    maxTtlSeconds,

    /**
     * A URL to GET `target` (a path with its query, e.g. `/v1/images/{id}/render?w=400`) as
     * `userId` for `expiresIn` seconds. The caller checks first that the user may read it now.
     */
    async sign(userId: string, target: string, expiresIn: number): Promise<SignedUrl> {
      const [signing] = await keys();
      if (!signing) throw new Error("no URL signing key");
      const url = new URL(target, "http://signing.invalid");
      const expires = Math.floor(clock.now() / 1000) + expiresIn;
      url.searchParams.set("expires", String(expires));
      url.searchParams.set("kid", signing.kid);
      url.searchParams.set("by", userId);
      const text = canonicalRequest("GET", url.pathname, url.searchParams, userId);
      url.searchParams.set("sig", await signText(signing.key, text));
      return {
        url: `${publicUrl}${url.pathname}${url.search}`,
        expires_at: new Date(expires * 1000).toISOString(),
      };
    },

    /**
     * The access a signed URL grants, or null when the request is not one (no `sig`, not a GET
     * or HEAD, or a path no URL is signed for): then it needs a credential as usual. A URL that
     * is signed but not valid is a 403 saying why: tampered, expired, signed with an unknown
     * key, or by a user who can no longer grant access.
     */
    async verify(method: string, url: URL): Promise<SignedAccess | null> {
      const query = url.searchParams;
      const sig = query.get("sig");
      if (sig === null || (method !== "GET" && method !== "HEAD")) return null;
      if (!signableTarget(url.pathname)) return null;
      const exact = `${url.pathname}${url.search}`;
      const { signer, expiresAt } = verified.get(exact) ?? (await checkSignature(url, sig));
      if (!verified.has(exact)) {
        if (verified.size >= MAX_REMEMBERED) verified.clear();
        verified.set(exact, { signer, expiresAt });
      }
      const now = clock.now();
      if (!(expiresAt > now)) {
        throw forbidden(`The signed URL expired at ${new Date(expiresAt).toISOString()}`);
      }
      const role = await signerRole(signer);
      if (!role) throw forbidden("The signed URL's signer can no longer grant access");
      const principal: Principal = { userId: signer, role, via: "signed_url", keyId: null };
      return { principal, secondsLeft: Math.floor((expiresAt - now) / 1000) };
    },
  };

  /** The signer and expiry of a URL whose signature is valid; 403 saying why otherwise. */
  async function checkSignature(url: URL, sig: string) {
    const query = url.searchParams;
    const [expires, kid, by] = SIGNATURE_PARAMS.slice(0, 3).map((name) => query.getAll(name));
    if (
      expires?.length !== 1 ||
      kid?.length !== 1 ||
      by?.length !== 1 ||
      query.getAll("sig").length !== 1
    ) {
      throw forbidden(
        "The signed URL is incomplete: it needs one each of expires, kid, by and sig",
      );
    }
    const key = (await keys()).find((k) => k.kid === kid[0]);
    if (!key) {
      throw forbidden(
        `The signed URL's key (kid ${kid[0]}) is unknown: it was rotated out, or never ours`,
      );
    }
    const signer = by[0] as string;
    const text = canonicalRequest("GET", url.pathname, query, signer);
    if (!(await verifyText(key.key, text, sig))) {
      throw forbidden(
        "The signed URL was tampered with: its signature does not match its path and query",
      );
    }
    // Signed, so a number we wrote (a NaN could only come from a key holder: expired at once).
    const expiresAt = Number(expires[0]) * 1000 || 0;
    return { signer, expiresAt };
  }
}
