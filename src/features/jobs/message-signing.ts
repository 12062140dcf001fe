import { z } from "zod";
import { canonicalJson, importHmacKey, toHex } from "../../core/lib/encoding.ts";
import type { ItemRef } from "./types.ts";

/**
 * East-west authentication of queue messages: each carries ids only (never bytes or user
 * credentials), when it was issued, and an HMAC-SHA256 over the canonical JSON of all that,
 * keyed with WORKER_SECRET. A worker runs only messages it can verify and that are fresh, so
 * whoever can publish to the broker without the secret cannot make workers do anything.
 */

const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

const SignedMessageSchema = z
  .object({
    item_id: uuid,
    job_id: uuid,
    attempt: z.number().int().min(1).max(1000),
    /** Milliseconds since the epoch. */
    issued_at: z.number().int().min(0),
    /** Lowercase hex HMAC-SHA256 of the canonical JSON of the other fields. */
    sig: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();

export type SignedMessage = z.output<typeof SignedMessageSchema>;

export type Verification =
  | { ok: true; message: SignedMessage }
  | { ok: false; reason: "malformed" | "unsigned" | "forged" | "stale" | "from the future" };

export interface MessageSigner {
  /** The message for `ref`, issued now, as the bytes to publish. */
  sign(ref: ItemRef, now?: number): Promise<Uint8Array>;
  /** Checks bytes received from the broker. */
  verify(body: Uint8Array, now?: number): Promise<Verification>;
}

const unsignedFields = (m: Omit<SignedMessage, "sig">) =>
  new TextEncoder().encode(
    canonicalJson({
      item_id: m.item_id,
      job_id: m.job_id,
      attempt: m.attempt,
      issued_at: m.issued_at,
    }),
  );

function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/**
 * Signs and verifies item messages with `secret` (Web Crypto, so any runtime).
 *
 * @param maxAgeMs how old a message may be; a retry is signed again when it is re-published.
 * @example
 * const signer = await createMessageSigner("a long random secret…", 86_400_000);
 * const body = await signer.sign({ item_id, job_id, attempt: 1 });
 * (await signer.verify(body)).ok; // true
 */
export async function createMessageSigner(
  secret: string,
  maxAgeMs: number,
): Promise<MessageSigner> {
  const key = await importHmacKey(secret);
  // Clocks of different machines disagree a little; a message from further ahead is suspect.
  const skewMs = 60_000;
  return {
    async sign(ref, now = Date.now()) {
      const fields = {
        item_id: ref.item_id,
        job_id: ref.job_id,
        attempt: ref.attempt,
        issued_at: now,
      };
      const sig = toHex(await crypto.subtle.sign("HMAC", key, unsignedFields(fields)));
      return new TextEncoder().encode(JSON.stringify({ ...fields, sig }));
    },

    async verify(body, now = Date.now()) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
      } catch {
        return { ok: false, reason: "malformed" };
      }
      if (parsed && typeof parsed === "object" && !("sig" in parsed)) {
        return { ok: false, reason: "unsigned" };
      }
      const message = SignedMessageSchema.safeParse(parsed);
      if (!message.success) return { ok: false, reason: "malformed" };
      const m = message.data;
      // subtle.verify compares in constant time.
      const genuine = await crypto.subtle.verify("HMAC", key, fromHex(m.sig), unsignedFields(m));
      if (!genuine) return { ok: false, reason: "forged" };
      if (m.issued_at > now + skewMs) return { ok: false, reason: "from the future" };
      if (now - m.issued_at > maxAgeMs) return { ok: false, reason: "stale" };
      return { ok: true, message: m };
    },
  };
}
