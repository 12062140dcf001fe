import type { RgbaImage } from "../imaging/raster.ts";
import { ADAM7, ImageDataError, PNG_CHANNELS } from "./decode-limits.ts";

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

/** Reverses one scanline's filter in place (PNG spec 9.2), against the previous one. */
function unfilter(filter: number, row: Uint8Array, prev: Uint8Array, bpp: number): void {
  const n = row.length;
  switch (filter) {
    case 0:
      return;
    case 1:
      for (let i = bpp; i < n; i++) row[i] = ((row[i] as number) + (row[i - bpp] as number)) & 255;
      return;
    case 2:
      for (let i = 0; i < n; i++) row[i] = ((row[i] as number) + (prev[i] as number)) & 255;
      return;
    case 3:
      for (let i = 0; i < n; i++) {
        const left = i >= bpp ? (row[i - bpp] as number) : 0;
        row[i] = ((row[i] as number) + ((left + (prev[i] as number)) >> 1)) & 255;
      }
      return;
    case 4:
      for (let i = 0; i < n; i++) {
        const a = i >= bpp ? (row[i - bpp] as number) : 0;
        const b = prev[i] as number;
        const c = i >= bpp ? (prev[i - bpp] as number) : 0;
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        const predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        row[i] = ((row[i] as number) + predictor) & 255;
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
 * DecompressionStream and unfiltering one scanline at a time: besides the file and the RGBA
 * result, it holds two scanlines. A wasm decoder holds a copy of the file and the whole image in
 * a memory that never shrinks (jSquash's reached 136 MiB on a 12 MP PNG), too much for an edge
 * isolate's 128 MB. Every colour type, bit depth and Adam7 interlacing; 16-bit samples rounded.
 *
 * @example
 * const { width, height, data } = await decodePngStreaming(bytes);
 */
export async function decodePngStreaming(bytes: Uint8Array): Promise<RgbaImage> {
  const { header: h, idat } = readChunks(bytes);
  const { width, height, depth } = h;
  const bitsPerPixel = (PNG_CHANNELS[h.colorType] as number) * depth;
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const out = new Uint8ClampedArray(width * height * 4);

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
    : [{ x0: 0, y0: 0, dx: 1, dy: 1, w: width, h: height }];
  let pass = 0;
  let y = 0;
  let stride = Math.ceil(((passes[0]?.w ?? 0) * bitsPerPixel) / 8);
  let prev = new Uint8Array(stride);
  let row = new Uint8Array(stride + 1);
  let filled = 0;

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
        const take = Math.min(row.length - filled, value.length - at);
        row.set(value.subarray(at, at + take), filled);
        filled += take;
        at += take;
        if (filled < row.length) break;
        const p = passes[pass] as (typeof passes)[number];
        const line = row.subarray(1);
        unfilter(row[0] as number, line, prev, bpp);
        toRgba(h, line, p.w, out, ((p.y0 + y * p.dy) * width + p.x0) * 4, p.dx * 4);
        prev.set(line);
        filled = 0;
        if (++y === p.h) {
          y = 0;
          pass++;
          const next = passes[pass];
          if (next) {
            stride = Math.ceil((next.w * bitsPerPixel) / 8);
            prev = new Uint8Array(stride);
            row = new Uint8Array(stride + 1);
          }
        }
      }
    }
  } catch (err) {
    if (err instanceof ImageDataError) throw err;
    throw new ImageDataError("The PNG's image data does not inflate", { cause: err });
  } finally {
    reader.cancel().catch(() => {});
  }
  if (pass < passes.length) throw new ImageDataError("The PNG's image data is truncated");
  return { data: out, width, height };
}
