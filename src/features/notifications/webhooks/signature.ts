import { constantTimeEqual, importHmacKey, toHex } from "../../../core/lib/encoding.ts";

/** The header every webhook delivery carries. */
export const SIGNATURE_HEADER = "Pictor-Signature";

/** How far a signature's timestamp may be from the receiver's clock before it is refused. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

const encoder = new TextEncoder();

async function hmacSha256Hex(secret: string, message: string): Promise<string> {
  const key = await importHmacKey(secret);
  return toHex(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
}

/**
 * The `Pictor-Signature` value for a body: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
 * "<t>.<body>")>`. Signing the timestamp with the body lets a receiver refuse replays of an old
 * delivery (the scheme Stripe uses, so receivers know it).
 *
 * @example
 * await signWebhook("whsec_…", '{"type":"job.succeeded"}', 1767225600);
 * // "t=1767225600,v1=5f1c…"
 */
export async function signWebhook(
  secret: string,
  body: string,
  timestamp = Math.floor(Date.now() / 1000),
): Promise<string> {
  return `t=${timestamp},v1=${await hmacSha256Hex(secret, `${timestamp}.${body}`)}`;
}

export type SignatureCheck =
  | { valid: true; timestamp: number }
  | { valid: false; reason: "malformed" | "stale" | "mismatch" };

/**
 * Checks a `Pictor-Signature` header against the raw request body (the exact bytes received, not
 * re-serialised JSON). Any `v1` entry may match, so a receiver keeps working while a secret is
 * rotated and two signatures are sent.
 *
 * @example
 * const check = await verifyWebhookSignature(secret, rawBody, request.headers.get("Pictor-Signature"));
 * if (!check.valid) return new Response(check.reason, { status: 400 });
 */
export async function verifyWebhookSignature(
  secret: string,
  body: string,
  header: string | null,
  options: { toleranceSeconds?: number; now?: number } = {},
): Promise<SignatureCheck> {
  if (!header) return { valid: false, reason: "malformed" };
  let timestamp: number | null = null;
  const signatures: string[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === "t" && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === "v1" && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (timestamp === null || signatures.length === 0) return { valid: false, reason: "malformed" };
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS))
    return { valid: false, reason: "stale" };
  const expected = await hmacSha256Hex(secret, `${timestamp}.${body}`);
  return signatures.some((s) => constantTimeEqual(s, expected))
    ? { valid: true, timestamp }
    : { valid: false, reason: "mismatch" };
}

/**
 * A new webhook secret: 32 random bytes, hex, with a prefix that tells what it is when it turns up
 * in a log or a leaked file.
 *
 * @example
 * newWebhookSecret(); // "whsec_9f86d081884c7d65…" (70 characters)
 */
export function newWebhookSecret(): string {
  return `whsec_${toHex(crypto.getRandomValues(new Uint8Array(32)))}`;
}
