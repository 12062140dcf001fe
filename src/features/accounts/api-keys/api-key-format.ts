import { sha256Hex, toBase64Url } from "../../../core/lib/encoding.ts";

const API_KEY_PREFIX = "pk_";
// "pk_" and 8 characters: enough to tell a user's keys apart, nothing to guess the rest from.
const SHOWN_LENGTH = API_KEY_PREFIX.length + 8;

/**
 * A new API key: `pk_` and 32 random bytes (base64url), its displayable prefix, and the SHA-256
 * that is all the database keeps. A fast hash is enough here: unlike a password, the key has
 * 256 bits of entropy, so there is nothing to brute-force.
 *
 * @example
 * const { key, prefix, hash } = await generateApiKey(); // key "pk_Xq3…" (46 chars), prefix "pk_Xq3…"
 */
export async function generateApiKey(): Promise<{ key: string; prefix: string; hash: string }> {
  const key = API_KEY_PREFIX + toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
  return { key, prefix: key.slice(0, SHOWN_LENGTH), hash: await hashApiKey(key) };
}

/** The stored form of an API key. */
export const hashApiKey = (key: string): Promise<string> =>
  sha256Hex(new TextEncoder().encode(key));

/** True when a bearer credential is an API key rather than a JWT. */
export const looksLikeApiKey = (credential: string): boolean =>
  credential.startsWith(API_KEY_PREFIX);
