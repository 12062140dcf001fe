import { deflateSync, type ZlibOptions } from "node:zlib";

const root = new URL("../fixtures/", import.meta.url);

/** A fixture's bytes, by path under test/fixtures. */
export const fixture = (path: string): Promise<Uint8Array<ArrayBuffer>> =>
  Bun.file(new URL(path, root)).bytes();

export const pngsuite = (name: string) => fixture(`pngsuite/png/${name}`);

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, Bun.hash.crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * A valid RGBA PNG of the given size whose pixels come from `pixel(x, y)`. Level-0 deflate keeps
 * the file about as large as its pixels, which the upload benchmarks want. `deflate`: zlib's
 * options beyond the level (strategy, window); `idatBytes`: the image data split into IDAT chunks
 * of that size.
 */
export function makePng(
  width: number,
  height: number,
  pixel: (x: number, y: number) => [number, number, number, number],
  options: {
    level?: number;
    claimWidth?: number;
    claimHeight?: number;
    deflate?: ZlibOptions;
    idatBytes?: number;
  } = {},
): Uint8Array<ArrayBuffer> {
  const raw = new Uint8Array((width * 4 + 1) * height);
  for (let y = 0, at = 0; y < height; y++) {
    raw[at++] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      raw.set(pixel(x, y), at);
      at += 4;
    }
  }
  return encodeRgbaPng(
    options.claimWidth ?? width,
    options.claimHeight ?? height,
    raw,
    { level: options.level ?? 6, ...options.deflate },
    options.idatBytes,
  );
}

/** Wraps filtered RGBA scanlines (`raw`) in a PNG that declares `width` × `height`. */
function encodeRgbaPng(
  width: number,
  height: number,
  raw: Uint8Array,
  deflate: ZlibOptions,
  idatBytes = Number.POSITIVE_INFINITY,
): Uint8Array<ArrayBuffer> {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const data = deflateSync(raw, deflate);
  const idat: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += idatBytes) {
    idat.push(chunk("IDAT", data.subarray(at, at + idatBytes)));
  }
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    ...idat,
    chunk("IEND", new Uint8Array(0)),
  ];
  return new Uint8Array(Buffer.concat(parts));
}

/** A valid PNG of random pixels, about `bytes` long (stored, not compressed): a large upload. */
export function noisePng(bytes: number): Uint8Array<ArrayBuffer> {
  const width = 1024;
  const height = Math.max(1, Math.round(bytes / (width * 4 + 1)));
  const raw = noise((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) raw[y * (width * 4 + 1)] = 0;
  return encodeRgbaPng(width, height, raw, { level: 0 });
}

/** Random bytes: the worst case for compression, the usual case for benchmarks. */
export function noise(length: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  for (let at = 0; at < length; at += 65536) crypto.getRandomValues(out.subarray(at, at + 65536));
  return out;
}
