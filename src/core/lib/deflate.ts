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
