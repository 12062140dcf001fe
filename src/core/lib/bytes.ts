// Bounds-safe readers for parsing file headers: a read past the end gives 0 (or a shorter
// string), never an exception, so truncated files are judged by the parsers' own checks.

export const PNG_SIGNATURE: readonly number[] = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Whether `b` holds `expected` at `at`, entirely. */
export const matches = (b: Uint8Array, at: number, expected: readonly number[]) =>
  at + expected.length <= b.length && expected.every((x, i) => b[at + i] === x);

export const ascii = (b: Uint8Array, at: number, length: number) =>
  String.fromCharCode(...b.subarray(at, Math.min(at + length, b.length)));

export const u16be = (b: Uint8Array, at: number) => ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
export const u32be = (b: Uint8Array, at: number) => u16be(b, at) * 0x10000 + u16be(b, at + 2);
export const u16le = (b: Uint8Array, at: number) => (b[at] ?? 0) | ((b[at + 1] ?? 0) << 8);
export const u24le = (b: Uint8Array, at: number) => u16le(b, at) | ((b[at + 2] ?? 0) << 16);
export const u32le = (b: Uint8Array, at: number) => u16le(b, at) + u16le(b, at + 2) * 0x10000;

/**
 * The parts, one after another, in a new buffer.
 *
 * @example
 * concatBytes([new Uint8Array([1, 2]), new Uint8Array([3])]); // Uint8Array [1, 2, 3]
 */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * A copy of `bytes` in a SharedArrayBuffer, where the runtime has one (else `bytes` itself): a
 * worker thread posted it reads this memory instead of a structured clone. For bytes that are
 * kept and only ever read (cached originals); measured on a 9 MP JPEG render over HTTP, posting
 * the 1.9 MB original to the image worker cost more main-thread time than everything else the
 * request did there.
 *
 * @example
 * const kept = sharedCopy(await blobs.read(sha256)); // posting it to a worker copies nothing
 */
export function sharedCopy(bytes: Uint8Array): Uint8Array {
  if (typeof SharedArrayBuffer !== "function") return bytes;
  const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
  shared.set(bytes);
  return shared;
}
