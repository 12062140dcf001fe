import { toBase64Url } from "../../core/lib/encoding.ts";

/** The query parameters a signed URL adds to the one it signs. */
export const SIGNATURE_PARAMS = ["expires", "kid", "by", "sig"] as const;

const textEncoder = new TextEncoder();
const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The text a signed URL's HMAC covers: the method, the path, the query sorted by name then
 * value (each pair decoded, then encoded one way, so `?b=1&a=2` and `?a=2&b=1` sign alike and
 * `%41` equals `A`) without `sig`, and the signer's user id. `expires`, `kid` and `by` are in the
 * query, so they are covered too.
 *
 * @example
 * canonicalRequest("GET", "/v1/images/x/render", new URLSearchParams("w=2&by=u&sig=…"), "u");
 * // "GET\n/v1/images/x/render\nby=u&w=2\nu"
 */
export function canonicalRequest(
  method: string,
  path: string,
  query: URLSearchParams,
  signer: string,
): string {
  const pairs = [...query]
    .filter(([name]) => name !== "sig")
    .sort(([a, x], [b, y]) => byCodeUnits(a, b) || byCodeUnits(x, y))
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  return `${method}\n${path}\n${pairs.join("&")}\n${signer}`;
}

/** The base64url HMAC-SHA256 of `text`. */
export async function signText(key: CryptoKey, text: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", key, textEncoder.encode(text));
  return toBase64Url(new Uint8Array(mac));
}

/** True when `signature` (base64url) is `text`'s HMAC; compared in constant time by Web Crypto. */
export async function verifyText(
  key: CryptoKey,
  text: string,
  signature: string,
): Promise<boolean> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(signature)) return false;
  const bytes = Uint8Array.from(
    atob(`${signature.replaceAll("-", "+").replaceAll("_", "/")}=`),
    (ch) => ch.charCodeAt(0),
  );
  return crypto.subtle.verify("HMAC", key, bytes, textEncoder.encode(text));
}
