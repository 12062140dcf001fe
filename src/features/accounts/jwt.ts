import { decode, sign, verify } from "hono/jwt";
import type { SigningKeySetting } from "../../config/config.ts";
import { toBase64Url } from "../../core/lib/encoding.ts";

export type SigningKey = SigningKeySetting;

/** The claims of a Pictor access token; `kid` is from its header. */
export type AccessClaims = { sub: string; iat: number; exp: number; jti: string; kid: string };

// Pinned: a token naming any other algorithm (`none`, RS256 with the HMAC secret as a "public
// key", …) is refused before its signature is looked at (CVE-2026-22817/22818 were about this).
const ALG = "HS256";

const textEncoder = new TextEncoder();

const toJwk = (key: SigningKey) => ({
  kty: "oct",
  k: toBase64Url(textEncoder.encode(key.secret)),
  alg: ALG,
  kid: key.kid,
});

/**
 * Signs an access token for user `subject` with `key` (its id goes in the header's `kid`).
 *
 * @example
 * const { token } = await issueAccessToken({ kid: "k1", secret: "…32+ chars…" }, userId, 3600);
 */
export async function issueAccessToken(
  key: SigningKey,
  subject: string,
  ttlSeconds: number,
  nowMs = Date.now(),
): Promise<{ token: string; claims: AccessClaims }> {
  const iat = Math.floor(nowMs / 1000);
  const claims = { sub: subject, iat, exp: iat + ttlSeconds, jti: crypto.randomUUID() };
  const token = await sign(claims, toJwk(key), ALG);
  return { token, claims: { ...claims, kid: key.kid } };
}

/**
 * The claims of `token` when it is an HS256 JWT signed by one of `keys` (chosen by its `kid`),
 * unexpired, with every claim Pictor issues; null otherwise, whatever the reason.
 *
 * @example
 * await verifyAccessToken(token, [current, previous]); // { sub, iat, exp, jti, kid } | null
 */
export async function verifyAccessToken(
  token: string,
  keys: readonly SigningKey[],
  nowMs = Date.now(),
): Promise<AccessClaims | null> {
  try {
    const { header } = decode(token);
    if (header.alg !== ALG || typeof header.kid !== "string") return null;
    const key = keys.find((k) => k.kid === header.kid);
    if (!key) return null;
    // Times are checked below against `nowMs`, the clock tokens are issued by: hono's verify
    // reads Date.now() itself.
    const payload = await verify(token, toJwk(key), { alg: ALG, exp: false, iat: false });
    const { sub, iat, exp, jti } = payload;
    const now = Math.floor(nowMs / 1000);
    if (
      typeof sub !== "string" ||
      typeof iat !== "number" ||
      typeof exp !== "number" ||
      typeof jti !== "string" ||
      !Number.isFinite(iat) ||
      !Number.isFinite(exp) ||
      iat > now ||
      exp <= now
    ) {
      return null;
    }
    return { sub, iat, exp, jti, kid: key.kid };
  } catch {
    return null;
  }
}
