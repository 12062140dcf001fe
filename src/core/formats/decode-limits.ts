import { ascii, u16be, u32be } from "../lib/bytes.ts";
import { av1MaxFrameSize, itemData, readAvifMeta } from "./avif.ts";
import { type ImageFormat, probeImageHeader } from "./probe.ts";

/*
 * What is checked before any decoder runs: the size the decoder will really produce, read from
 * the bitstream it will read (not only from a container that may lie), and the work it will do.
 * Decoders allocate first and ask later, and some (PNG's inflate, progressive JPEG) do work that
 * the file's size does not bound; these checks bound both by the image's declared size.
 */

/** The image's data is corrupt, lies about its size, or is over a limit: in plain words. */
export class ImageDataError extends Error {
  override readonly name = "ImageDataError";
}

/** The file is valid but uses a feature the codec cannot read. */
export class UnsupportedImageError extends Error {
  override readonly name = "UnsupportedImageError";
}

/** libjpeg's largest side (JPEG_MAX_DIMENSION); the format itself allows 65 535. */
export const JPEG_MAX_SIDE = 65_500;

/** Frame markers of processes libjpeg-turbo 2.1 cannot decode: lossless and hierarchical. */
const JPEG_UNSUPPORTED_SOF = new Set([0xc3, 0xc5, 0xc6, 0xc7, 0xcb, 0xcd, 0xce, 0xcf]);

/** Samples per pixel of each PNG colour type (PNG §11.2.2); absent: not a valid type. */
export const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Adam7: each pass's first column and row, and its steps (PNG spec 8.2). */
export const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/**
 * How much a PNG's image data inflates to, exactly (PNG §7.3: one filter byte per row, each of
 * the seven Adam7 passes on its own).
 */
function pngRawSize(width: number, height: number, bitsPerPixel: number, interlaced: boolean) {
  const rows = (w: number, h: number) =>
    w === 0 || h === 0 ? 0 : h * (1 + Math.ceil((w * bitsPerPixel) / 8));
  if (!interlaced) return rows(width, height);
  return ADAM7.reduce(
    (sum, [x0, y0, dx, dy]) =>
      sum + rows(Math.ceil((width - x0) / dx), Math.ceil((height - y0) / dy)),
    0,
  );
}

/** From a PNG's IHDR: its image data's inflated size, and the most an encoding of it can take. */
function pngDataBounds(b: Uint8Array): { raw: number; honest: number } {
  const depth = b[24] ?? 0;
  const channels = PNG_CHANNELS[b[25] ?? 0] ?? 1;
  const raw = pngRawSize(u32be(b, 16), u32be(b, 20), depth * channels, b[28] === 1);
  // Fixed Huffman codes take at most 9 bits a byte, stored blocks 5 bytes per block, zlib 6.
  return { raw, honest: raw + Math.ceil(raw / 8) + 5 * Math.ceil(raw / 1024) + 1024 };
}

const pngDataTooLarge = (compressed: number, width: number, height: number, raw: number) =>
  new ImageDataError(
    `PNG image data is ${compressed} bytes, more than any encoding of a ${width}×${height} image takes (${raw} bytes uncompressed)`,
  );

/**
 * Follows a PNG's chunks as its bytes arrive (an upload), to refuse image data larger than any
 * encoding of the declared size as soon as a chunk header says so, before the rest is received.
 * `head`: the file's first bytes, IHDR included. `push` each piece in order; it throws an
 * ImageDataError once the IDAT chunks pass the bound.
 *
 * @example
 * const meter = pngDataMeter(head); for await (const piece of body) meter.push(piece);
 */
export function pngDataMeter(head: Uint8Array): { push(piece: Uint8Array): void } {
  const { raw, honest } = pngDataBounds(head);
  const width = u32be(head, 16);
  const height = u32be(head, 20);
  let offset = 0; // of the next piece in the file
  let next = 8; // offset of the next chunk header
  let carry: Uint8Array = new Uint8Array(0); // a chunk header's bytes received so far
  let compressed = 0;
  return {
    push(piece) {
      const end = offset + piece.length;
      while (next + 8 <= end) {
        const at = next - offset;
        const header =
          at >= 0
            ? piece.subarray(at, at + 8)
            : new Uint8Array([...carry, ...piece.subarray(0, 8 + at)]);
        const length = u32be(header, 0);
        if (ascii(header, 4, 4) === "IDAT") {
          compressed += length;
          if (compressed > honest) throw pngDataTooLarge(compressed, width, height, raw);
        }
        next += 12 + length;
      }
      if (next >= end) carry = new Uint8Array(0);
      else if (next >= offset) carry = piece.slice(next - offset);
      else carry = new Uint8Array([...carry, ...piece]);
      offset = end;
    },
  };
}

/**
 * A PNG's image data must be an honest encoding of the size IHDR declares: no more compressed
 * bytes than stored (uncompressed) deflate blocks of that size would take. (That it also ends
 * where the image does, the decoder checks as it inflates: png-stream.ts stops at the
 * declared size, where jSquash's decoder inflated 1 GiB of trailing zeros after a 1×1 image in
 * 0.9 s.)
 */
function checkPngData(b: Uint8Array, width: number, height: number): void {
  const { raw, honest } = pngDataBounds(b);
  let compressed = 0;
  for (let at = 8; at + 12 <= b.length; ) {
    const length = u32be(b, at);
    const type = ascii(b, at + 4, 4);
    if (type === "IDAT") compressed += length;
    if (type === "IEND") break;
    at += 12 + length;
  }
  if (compressed > honest) throw pngDataTooLarge(compressed, width, height, raw);
}

/** JPEG features libjpeg-turbo cannot decode, refused from the frame header. */
function checkJpegFrame(header: { width: number; height: number } & Record<string, unknown>) {
  const { width, height, precision, sof, components } = header;
  if (precision !== 8) {
    throw new UnsupportedImageError(
      `JPEGs with ${String(precision)}-bit samples cannot be decoded; convert the file to 8-bit`,
    );
  }
  if (typeof sof === "number" && JPEG_UNSUPPORTED_SOF.has(sof)) {
    throw new UnsupportedImageError(
      "Lossless and hierarchical JPEGs cannot be decoded; convert the file to baseline or progressive JPEG",
    );
  }
  if (width > JPEG_MAX_SIDE || height > JPEG_MAX_SIDE) {
    throw new UnsupportedImageError(
      `JPEG is ${width}×${height}; JPEGs wider or taller than ${JPEG_MAX_SIDE} pixels cannot be decoded`,
    );
  }
  // The decoder reads CMYK, but only converts it naively (no colour management): measured 11
  // levels of mean absolute difference from sharp's profile-based conversion. Refused until a
  // profile can be applied.
  if (components === 4) {
    throw new UnsupportedImageError("CMYK JPEGs cannot be decoded yet; convert the file to RGB");
  }
}

function checkWebpFeatures(b: Uint8Array): void {
  const animated = ascii(b, 12, 4) === "VP8X" && ((b[20] ?? 0) & 0x02) !== 0;
  if (animated) {
    throw new UnsupportedImageError(
      "Animated WebP cannot be decoded; upload a still image (one frame)",
    );
  }
}

/**
 * An AVIF's primary item must be one AV1 image, or a grid of them, whose sequence headers
 * (what the AV1 decoder sizes its frames by) agree with the `ispe` size: otherwise a file
 * declaring 1×1 could decode at 10 000×6 000.
 */
function checkAvifBitstream(b: Uint8Array): void {
  const meta = readAvifMeta(b);
  if (meta.kind !== "ok") {
    throw new ImageDataError(meta.kind === "corrupt" ? meta.reason : "AVIF ends inside its header");
  }
  const { primary } = meta;
  const lying = (w: number, h: number) =>
    new ImageDataError(
      `AVIF declares ${primary.width}×${primary.height} but its AV1 data is ${w}×${h}`,
    );
  const frameOf = (data: Uint8Array | null) => {
    const size = data ? av1MaxFrameSize(data) : null;
    if (!size) throw new ImageDataError("AVIF image data has no AV1 sequence header");
    return size;
  };
  if (primary.type === "av01") {
    const frame = frameOf(itemData(b, primary));
    if (frame.width !== primary.width || frame.height !== primary.height) {
      throw lying(frame.width, frame.height);
    }
    return;
  }
  if (primary.type !== "grid") {
    throw new UnsupportedImageError(
      `AVIF's primary item is of type ${JSON.stringify(primary.type)}, which cannot be decoded`,
    );
  }
  // HEIF §6.6.2.3.2 ImageGrid; libavif requires tiles of one size that cover the output with
  // less than one tile to spare on each axis.
  const grid = itemData(b, primary);
  if (!grid || grid.length < 8 || primary.tiles.length === 0) {
    throw new ImageDataError("AVIF image grid is malformed");
  }
  const rows = (grid[2] ?? 0) + 1;
  const columns = (grid[3] ?? 0) + 1;
  const wide = ((grid[1] ?? 0) & 1) === 1;
  const outWidth = wide ? u32be(grid, 4) : u16be(grid, 4);
  const outHeight = wide ? u32be(grid, 8) : u16be(grid, 6);
  if (outWidth !== primary.width || outHeight !== primary.height) {
    throw lying(outWidth, outHeight);
  }
  if (primary.tiles.length !== rows * columns)
    throw new ImageDataError("AVIF image grid is malformed");
  const tile = frameOf(itemData(b, primary.tiles[0] as (typeof primary.tiles)[number]));
  for (const t of primary.tiles) {
    const size = frameOf(itemData(b, t));
    if (size.width !== tile.width || size.height !== tile.height) {
      throw new ImageDataError("AVIF image grid has tiles of different sizes");
    }
  }
  const covers = (side: number, count: number, out: number) =>
    side * count >= out && side * (count - 1) < out;
  if (!covers(tile.width, columns, outWidth) || !covers(tile.height, rows, outHeight)) {
    throw lying(tile.width * columns, tile.height * rows);
  }
}

/**
 * Checks, before any decoder runs, that `bytes` will decode to the size its header declares and
 * no more than `maxPixels` pixels, with bounded work; returns that size (as stored, before any
 * EXIF orientation). Throws ImageDataError or UnsupportedImageError with a reason in plain words.
 * Does not mutate `bytes`.
 *
 * @example
 * await checkDecodable(bytes, "avif", 50_000_000); // { width: 300, height: 200 }
 */
export async function checkDecodable(
  bytes: Uint8Array,
  format: ImageFormat,
  maxPixels: number,
): Promise<{ width: number; height: number }> {
  const header = probeImageHeader(bytes);
  if (header.kind !== "ok" || header.format !== format) {
    throw new ImageDataError(
      header.kind === "corrupt"
        ? header.reason
        : `The file is not a complete ${format.toUpperCase()} image`,
    );
  }
  const { width, height } = header;
  if (width * height > maxPixels) {
    throw new ImageDataError(
      `Image is ${width}×${height} = ${width * height} pixels; the limit (MAX_PIXELS) is ${maxPixels}`,
    );
  }
  switch (format) {
    case "jpeg":
      checkJpegFrame(header);
      break;
    case "png":
      checkPngData(bytes, width, height);
      break;
    case "webp":
      checkWebpFeatures(bytes);
      break;
    case "avif":
      checkAvifBitstream(bytes);
      break;
  }
  return { width, height };
}
