import { toHex } from "./encoding.ts";

let lastMs = 0;
let sequence = 0;

/**
 * A UUIDv7 (RFC 9562): time-ordered, so "newest first" is "largest id first" and cursors are ids.
 * Ids made in the same millisecond by this process stay ordered through a 12-bit counter.
 *
 * @example
 * uuidv7(); // "019aa3f2-6b1e-7000-8a4f-3c2d1e0f9a8b"
 */
export function uuidv7(now = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    sequence = 0;
  } else if (++sequence > 0xfff) {
    lastMs += 1;
    sequence = 0;
  }
  const b = crypto.getRandomValues(new Uint8Array(16));
  let ms = lastMs;
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  b[6] = 0x70 | (sequence >> 8);
  b[7] = sequence & 0xff;
  b[8] = 0x80 | ((b[8] as number) & 0x3f);
  const hex = toHex(b);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * True when `value` has the shape of a UUID (any version): what may be asked of a uuid column.
 *
 * @example
 * isUuid("019aa3f2-6b1e-7000-8a4f-3c2d1e0f9a8b"); // true
 */
export const isUuid = (value: string): boolean => UUID.test(value);
