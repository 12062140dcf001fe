/**
 * zlib (RFC 1950) compression and decompression through the Web Streams API, which Bun, Node,
 * browsers and Workers all provide: no codec to ship for PNG's IDAT or for stored label maps.
 */
async function pipe(
  bytes: Uint8Array,
  stream: CompressionStream | DecompressionStream,
): Promise<Uint8Array> {
  const out = new Response(
    new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(stream),
  );
  return new Uint8Array(await out.arrayBuffer());
}

/** zlib-compressed bytes. @example await zlibDeflate(new Uint8Array(1000)) // ~ 17 bytes */
export const zlibDeflate = (bytes: Uint8Array) => pipe(bytes, new CompressionStream("deflate"));

/** Inflates zlib-compressed bytes. @example await zlibInflate(await zlibDeflate(x)) // x */
export const zlibInflate = (bytes: Uint8Array) => pipe(bytes, new DecompressionStream("deflate"));

/**
 * How many bytes a zlib stream, given in pieces, inflates to, stopping as soon as that passes
 * `limit` (then the answer is `limit + 1`): a stream that would inflate to gigabytes costs no
 * more than `limit` bytes of work. A stream that is corrupt or cut off counts what came out before.
 *
 * @example
 * await inflatedSizeUpTo([idat1, idat2], rawSize); // rawSize for an honest PNG
 */
export async function inflatedSizeUpTo(pieces: Uint8Array[], limit: number): Promise<number> {
  const input = new Blob(pieces as Uint8Array<ArrayBuffer>[]).stream();
  const reader = input.pipeThrough(new DecompressionStream("deflate")).getReader();
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return total;
      total += value.length;
      if (total > limit) {
        await reader.cancel();
        return limit + 1;
      }
    }
  } catch {
    return total;
  }
}
