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

type Exports = {
  memory: WebAssembly.Memory;
  __wasm_call_ctors: () => void;
  pp_malloc: (bytes: number) => number;
  pp_free: (at: number) => void;
  pp_begin: () => number;
  pp_end: () => void;
  pp_pass: (rowBytes: number, pixelBytes: number, bandRows: number) => number;
  pp_input: (at: number, bytes: number) => void;
  pp_needs_input: () => number;
  pp_ended: () => number;
  pp_rows: (out: number, rows: number) => number;
  pp_trailing: (limit: number) => number;
};

/** How many bytes of scanlines wasm/png/ inflates and hands over at a time. */
const BAND_BYTES = 1024 * 1024;
/** How much of the compressed image data is copied into the module at a time. */
const INPUT_BYTES = 1024 * 1024;

export type PngDecoder = {
  /**
   * Decodes a PNG to 8-bit RGBA: every colour type, bit depth and Adam7 interlacing; 16-bit
   * samples rounded. `region`: only that box of the image, inflating nothing below it (the rows
   * above it are still inflated and unfiltered: each depends on the one before). `allocate`:
   * where the pixels go (default: a new raster).
   */
  decode(bytes: Uint8Array, region?: Region, allocate?: AllocateRgba): RgbaImage;
  /** The instance's linear memory in bytes: it only grows. */
  memoryBytes(): number;
};

/**
 * Pictor's PNG decoder: the chunks read and the scanlines converted to RGBA here, inflated and
 * unfiltered by wasm/png/ (zlib's inflate and the PNG filters in C), a band of scanlines at a
 * time, so that the module's memory holds about a megabyte of the compressed data, a band of
 * about a megabyte of scanlines and zlib's 32 KiB window, never the image: a wasm decoder holding
 * the file and the whole image would keep that memory for good (jSquash's reached 136 MiB on a
 * 12 MP PNG, more than an edge isolate's 128 MB). 8-bit RGBA bands are copied to the result as
 * they are.
 *
 * @example
 * const png = await instantiatePngDecoder(await loadLocalWasm("pngDecode"));
 * const { width, height, data } = png.decode(bytes);
 */
export async function instantiatePngDecoder(module: WebAssembly.Module): Promise<PngDecoder> {
  const instance = await WebAssembly.instantiate(module, {});
  const x = instance.exports as unknown as Exports;
  x.__wasm_call_ctors();

  function decode(
    bytes: Uint8Array,
    region?: Region,
    allocate: AllocateRgba = createRgba,
  ): RgbaImage {
    const { header: h, idat } = readChunks(bytes);
    const { width, height, depth } = h;
    // Adam7 passes each cover the whole height: decode it all and cut the box out.
    if (region && h.interlaced) return cropRgba(decode(bytes), region);
    const box = region ?? { left: 0, top: 0, width, height };
    const bitsPerPixel = (PNG_CHANNELS[h.colorType] as number) * depth;
    const bpp = Math.max(1, bitsPerPixel >> 3);
    const image = allocate(box.width, box.height);
    const out = image.data;
    const rgba8 = depth === 8 && h.colorType === 6;
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
    const longest = Math.max(...passes.map((p) => Math.ceil((p.w * bitsPerPixel) / 8)));
    const bandRows = Math.max(1, Math.floor(BAND_BYTES / longest));
    const band = x.pp_malloc(bandRows * longest);
    let input = 0;
    let chunk = 0;
    let inflatedRows = 0; // bytes of scanlines (with their filter bytes) read so far
    try {
      if (band === 0) throw new ImageDataError("Out of memory for the PNG's scanlines");
      if (x.pp_begin() !== 0) throw new ImageDataError("The PNG's image data cannot be inflated");
      /** Gives the module the next IDAT chunks (about INPUT_BYTES); false when none is left. */
      const feed = (): boolean => {
        if (chunk === idat.length) return false;
        if (input) x.pp_free(input);
        let bytes = 0;
        const from = chunk;
        while (chunk < idat.length && bytes < INPUT_BYTES) {
          bytes += (idat[chunk++] as Uint8Array).length;
        }
        input = x.pp_malloc(Math.max(1, bytes));
        if (input === 0) throw new ImageDataError("Out of memory for the PNG's image data");
        const heap = new Uint8Array(x.memory.buffer, input, bytes);
        for (let i = from, at = 0; i < chunk; i++) {
          heap.set(idat[i] as Uint8Array, at);
          at += (idat[i] as Uint8Array).length;
        }
        x.pp_input(input, bytes);
        return true;
      };
      for (const p of passes) {
        const stride = Math.ceil((p.w * bitsPerPixel) / 8);
        if (x.pp_pass(stride, bpp, bandRows) !== 0) {
          throw new ImageDataError("Out of memory for the PNG's scanlines");
        }
        for (let y = 0; y < p.h; ) {
          const done = x.pp_rows(band, Math.min(bandRows, p.h - y));
          if (done === -1) throw new ImageDataError("The PNG's image data does not inflate");
          if (done <= -256) {
            throw new ImageDataError(`The PNG uses an unknown filter type ${-256 - done}`);
          }
          if (done < 0) throw new ImageDataError("Out of memory for the PNG's scanlines");
          const rows = new Uint8Array(x.memory.buffer, band, done * stride);
          if (rgba8 && !h.interlaced && !region) {
            // 8-bit RGBA scanlines are the raster's rows as they are.
            out.set(rows, y * stride);
            y += done;
          } else {
            for (let r = 0; r < done; r++, y++) {
              const line = rows.subarray(r * stride, (r + 1) * stride);
              if (!region) {
                toRgba(h, line, p.w, out, ((p.y0 + y * p.dy) * width + p.x0) * 4, p.dx * 4);
              } else if (y >= box.top) {
                toRgba(h, line, width, wholeRow as Uint8ClampedArray, 0, 4);
                out.set(
                  (wholeRow as Uint8ClampedArray).subarray(
                    4 * box.left,
                    4 * (box.left + box.width),
                  ),
                  4 * (y - box.top) * box.width,
                );
              }
            }
          }
          inflatedRows += done * (1 + stride);
          if (y < p.h && x.pp_needs_input() && !feed()) {
            throw new ImageDataError("The PNG's image data is truncated");
          }
          if (y < p.h && x.pp_ended())
            throw new ImageDataError("The PNG's image data is truncated");
        }
      }
      // The whole image read, the stream must end about there: decoders that inflate on to its
      // end (jSquash's: 1 GiB of zeros after a 1×1 image, 0.9 s) can be kept busy by any small
      // file. A little slack, as encoders may flush an empty block or two.
      let trailing = 0;
      while (!region && !x.pp_ended() && trailing <= TRAILING_SLACK) {
        const more = x.pp_trailing(TRAILING_SLACK - trailing);
        if (more < 0) throw new ImageDataError("The PNG's image data does not inflate");
        trailing += more;
        if (x.pp_needs_input() && !feed()) break;
      }
      if (trailing > TRAILING_SLACK) {
        throw new ImageDataError(
          `PNG image data inflates to more than the ${inflatedRows} bytes a ${width}×${height} image holds`,
        );
      }
    } finally {
      x.pp_end();
      if (input) x.pp_free(input);
      if (band) x.pp_free(band);
    }
    return image;
  }

  return { decode, memoryBytes: () => x.memory.buffer.byteLength };
}
