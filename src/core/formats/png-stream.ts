import { cropRgba } from "../imaging/kernels.ts";
import { type AllocateRgba, createRgba, type RgbaImage } from "../imaging/raster.ts";
import { ADAM7, ImageDataError, PNG_CHANNELS } from "./decode-limits.ts";
import type { Region } from "./jpeg-turbo.ts";

/** Inflated bytes a PNG's image data may run on past its last scanline. */
const TRAILING_SLACK = 64 * 1024;

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

type Header = {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  interlaced: boolean;
  palette?: Uint8Array;
  /** tRNS: alpha per palette entry, or the one transparent grey / RGB sample. */
  transparency?: Uint8Array;
};

function readChunks(bytes: Uint8Array): { header: Header; idat: Uint8Array[] } {
  if (!SIGNATURE.every((b, i) => bytes[i] === b)) throw new ImageDataError("Not a PNG file");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let header: Header | undefined;
  const idat: Uint8Array[] = [];
  for (let at = 8; at + 8 <= bytes.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (data.length !== length) throw new ImageDataError(`The PNG's ${type} chunk is truncated`);
    at += 12 + length;
    if (type === "IHDR") {
      header = {
        width: view.getUint32(data.byteOffset - bytes.byteOffset),
        height: view.getUint32(data.byteOffset - bytes.byteOffset + 4),
        depth: data[8] as number,
        colorType: data[9] as number,
        interlaced: data[12] === 1,
      };
    } else if (type === "PLTE" && header) header.palette = data;
    else if (type === "tRNS" && header) header.transparency = data;
    else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
  }
  if (!header || PNG_CHANNELS[header.colorType] === undefined) {
    throw new ImageDataError("The PNG has no valid IHDR chunk");
  }
  if (idat.length === 0) throw new ImageDataError("The PNG has no image data");
  return { header, idat };
}

/**
 * Reverses one scanline's filter in place (PNG spec 9.2), against the previous one. Stores into a
 * Uint8Array wrap modulo 256, which is the filters' arithmetic; the first `bpp` bytes, which have
 * no left neighbour, get their own loop so the long one has no branch.
 */
function unfilter(filter: number, row: Uint8Array, prev: Uint8Array, bpp: number): void {
  const n = row.length;
  switch (filter) {
    case 0:
      return;
    case 1:
      for (let i = bpp; i < n; i++) row[i] = (row[i] as number) + (row[i - bpp] as number);
      return;
    case 2:
      for (let i = 0; i < n; i++) row[i] = (row[i] as number) + (prev[i] as number);
      return;
    case 3:
      for (let i = 0; i < bpp; i++) row[i] = (row[i] as number) + ((prev[i] as number) >> 1);
      for (let i = bpp; i < n; i++) {
        row[i] = (row[i] as number) + (((row[i - bpp] as number) + (prev[i] as number)) >> 1);
      }
      return;
    case 4:
      // With no left neighbour the predictor is the pixel above.
      for (let i = 0; i < bpp; i++) row[i] = (row[i] as number) + (prev[i] as number);
      for (let i = bpp; i < n; i++) {
        const a = row[i - bpp] as number;
        const b = prev[i] as number;
        const c = prev[i - bpp] as number;
        // |p − a|, |p − b|, |p − c| for p = a + b − c
        const pa = b > c ? b - c : c - b;
        const pb = a > c ? a - c : c - a;
        const d = a + b - 2 * c;
        const pc = d < 0 ? -d : d;
        row[i] = (row[i] as number) + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
      }
      return;
    default:
      throw new ImageDataError(`The PNG uses an unknown filter type ${filter}`);
  }
}

/** Writes one unfiltered scanline of `count` pixels as RGBA, at `out[start]`, every `step`. */
function toRgba(
  h: Header,
  row: Uint8Array,
  count: number,
  out: Uint8ClampedArray,
  start: number,
  step: number,
): void {
  const channels = PNG_CHANNELS[h.colorType] as number;
  const { depth } = h;
  if (depth === 8 && h.colorType === 6 && step === 4) {
    out.set(row.subarray(0, count * 4), start);
    return;
  }
  if (depth === 8 && h.colorType === 2 && !h.transparency) {
    for (let x = 0, s = 0, o = start; x < count; x++, s += 3, o += step) {
      out[o] = row[s] as number;
      out[o + 1] = row[s + 1] as number;
      out[o + 2] = row[s + 2] as number;
      out[o + 3] = 255;
    }
    return;
  }
  const max = (1 << depth) - 1;
  const sample = (index: number): number => {
    if (depth === 8) return row[index] as number;
    if (depth === 16) return ((row[2 * index] as number) << 8) | (row[2 * index + 1] as number);
    const bit = index * depth;
    return ((row[bit >> 3] as number) >> (8 - depth - (bit & 7))) & max;
  };
  // Samples to 8 bits: 16-bit rounded (v ÷ 257), low depths scaled up (PNG spec 13.12).
  const to8 =
    depth === 16 ? (v: number) => (v * 255 + 32895) >> 16 : (v: number) => (v * 255) / max;
  const t = h.transparency;
  const tr = t && t.length >= 2 ? ((t[0] as number) << 8) | (t[1] as number) : -1;
  const tg = t && t.length >= 6 ? ((t[2] as number) << 8) | (t[3] as number) : -1;
  const tb = t && t.length >= 6 ? ((t[4] as number) << 8) | (t[5] as number) : -1;
  for (let x = 0, o = start; x < count; x++, o += step) {
    const s = x * channels;
    switch (h.colorType) {
      case 0: {
        const v = sample(s);
        out[o] = out[o + 1] = out[o + 2] = to8(v);
        out[o + 3] = v === tr ? 0 : 255;
        break;
      }
      case 2: {
        const r = sample(s);
        const g = sample(s + 1);
        const b = sample(s + 2);
        out[o] = to8(r);
        out[o + 1] = to8(g);
        out[o + 2] = to8(b);
        out[o + 3] = r === tr && g === tg && b === tb ? 0 : 255;
        break;
      }
      case 3: {
        const i = sample(s);
        const p = h.palette;
        if (!p || 3 * i + 2 >= p.length) throw new ImageDataError("The PNG's palette is too short");
        out[o] = p[3 * i] as number;
        out[o + 1] = p[3 * i + 1] as number;
        out[o + 2] = p[3 * i + 2] as number;
        out[o + 3] = t && i < t.length ? (t[i] as number) : 255;
        break;
      }
      case 4:
        out[o] = out[o + 1] = out[o + 2] = to8(sample(s));
        out[o + 3] = to8(sample(s + 1));
        break;
      default:
        out[o] = to8(sample(s));
        out[o + 1] = to8(sample(s + 1));
        out[o + 2] = to8(sample(s + 2));
        out[o + 3] = to8(sample(s + 3));
    }
  }
}

/**
 * Decodes a PNG to 8-bit RGBA in JavaScript, inflating its IDAT chunks through the runtime's
 * DecompressionStream (native zlib) and unfiltering one scanline at a time: besides the file and
 * the RGBA result, it holds two scanlines. 8-bit RGBA rows are unfiltered in place in the result.
 * Every colour type, bit depth and Adam7 interlacing; 16-bit samples rounded. Faster than
 * jSquash's wasm decoder (Rust's `png` crate) by about 3× on a 9 MP photo, and a wasm decoder
 * would hold a copy of the file and the whole image in a memory that never shrinks (jSquash's
 * reached 136 MiB on a 12 MP PNG), too much for an edge isolate's 128 MB.
 *
 * `region`: only that box of the image, inflating nothing below it (rows above it are still
 * inflated and unfiltered: each depends on the one before). `allocate`: where the pixels go.
 *
 * @example
 * const { width, height, data } = await decodePngStreaming(bytes);
 */
export async function decodePngStreaming(
  bytes: Uint8Array,
  region?: Region,
  allocate: AllocateRgba = createRgba,
): Promise<RgbaImage> {
  const { header: h, idat } = readChunks(bytes);
  const { width, height, depth } = h;
  // Adam7 passes each cover the whole height: decode it all and cut the box out.
  if (region && h.interlaced) return cropRgba(await decodePngStreaming(bytes), region);
  const box = region ?? { left: 0, top: 0, width, height };
  const bitsPerPixel = (PNG_CHANNELS[h.colorType] as number) * depth;
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const image = allocate(box.width, box.height);
  const out = image.data;
  // Stores that wrap (the filters' arithmetic), where the clamped array would saturate.
  const outBytes = new Uint8Array(out.buffer, out.byteOffset, out.length);
  // Whole 8-bit RGBA rows are unfiltered where they end up.
  const inPlace = !h.interlaced && !region && depth === 8 && h.colorType === 6;
  // A converted row, when only part of it is kept.
  const wholeRow = region ? new Uint8ClampedArray(width * 4) : undefined;

  // The scanlines in file order: [pass, y, row width] for each (Adam7 or not).
  const passes = h.interlaced
    ? ADAM7.map(([x0, y0, dx, dy]) => ({
        x0,
        y0,
        dx,
        dy,
        w: Math.ceil((width - x0) / dx),
        h: Math.ceil((height - y0) / dy),
      })).filter((p) => p.w > 0 && p.h > 0)
    : [{ x0: 0, y0: 0, dx: 1, dy: 1, w: width, h: box.top + box.height }];
  let pass = 0;
  let y = 0;
  let stride = Math.ceil(((passes[0]?.w ?? 0) * bitsPerPixel) / 8);
  let prev: Uint8Array = new Uint8Array(stride);
  let row: Uint8Array = new Uint8Array(stride);
  let filter = -1; // the current scanline's filter type, once read
  let inflatedRows = 0; // bytes of scanlines (with their filter bytes) read so far
  let trailing = 0; // bytes inflated past the last scanline
  let filled = 0; // bytes of the current scanline read so far

  const inflated = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of idat) controller.enqueue(chunk);
      controller.close();
    },
  }).pipeThrough(
    new DecompressionStream("deflate") as unknown as TransformStream<Uint8Array, Uint8Array>,
  );
  const reader = inflated.getReader();
  try {
    while (pass < passes.length) {
      const { done, value } = await reader.read();
      if (done) break;
      for (let at = 0; at < value.length && pass < passes.length; ) {
        if (filter < 0) {
          filter = value[at++] as number;
          continue;
        }
        const line = inPlace ? outBytes.subarray(y * stride, (y + 1) * stride) : row;
        const take = Math.min(stride - filled, value.length - at);
        line.set(value.subarray(at, at + take), filled);
        filled += take;
        at += take;
        if (filled < stride) break;
        const p = passes[pass] as (typeof passes)[number];
        unfilter(filter, line, prev, bpp);
        if (inPlace) prev = line;
        else {
          if (!region) toRgba(h, line, p.w, out, ((p.y0 + y * p.dy) * width + p.x0) * 4, p.dx * 4);
          else if (y >= box.top) {
            toRgba(h, line, width, wholeRow as Uint8ClampedArray, 0, 4);
            out.set(
              (wholeRow as Uint8ClampedArray).subarray(4 * box.left, 4 * (box.left + box.width)),
              4 * (y - box.top) * box.width,
            );
          }
          [prev, row] = [line, prev];
        }
        filter = -1;
        filled = 0;
        inflatedRows += 1 + stride;
        if (++y === p.h) {
          y = 0;
          pass++;
          const next = passes[pass];
          if (next) {
            stride = Math.ceil((next.w * bitsPerPixel) / 8);
            prev = new Uint8Array(stride);
            row = new Uint8Array(stride);
          } else if (!region) trailing = value.length - at;
        }
      }
    }
    // The whole image read, the stream must end about there: decoders that inflate on to its
    // end (jSquash's: 1 GiB of zeros after a 1×1 image, 0.9 s) can be kept busy by any small
    // file. A little slack, as encoders may flush an empty block or two.
    while (!region && pass === passes.length && trailing <= TRAILING_SLACK) {
      const { done, value } = await reader.read();
      if (done) break;
      trailing += value.length;
    }
  } catch (err) {
    if (err instanceof ImageDataError) throw err;
    throw new ImageDataError("The PNG's image data does not inflate", { cause: err });
  } finally {
    reader.cancel().catch(() => {});
  }
  if (pass < passes.length) throw new ImageDataError("The PNG's image data is truncated");
  if (trailing > TRAILING_SLACK) {
    throw new ImageDataError(
      `PNG image data inflates to more than the ${inflatedRows} bytes a ${width}×${height} image holds`,
    );
  }
  return image;
}
