import { expectInteger, expectRgba } from "./kernels/validate.ts";
import { type ResampleFilter, resampleWeights } from "./kernels.ts";
import { type AllocateRgba, createRgba, type RgbaImage } from "./raster.ts";

/** How much of the source image the box shrink copies into wasm memory at a time. */
const SHRINK_BAND_BYTES = 4 * 1024 * 1024;

type Exports = {
  memory: WebAssembly.Memory;
  __heap_base: WebAssembly.Global;
  resample: (
    src: number,
    inWidth: number,
    inHeight: number,
    dst: number,
    outWidth: number,
    outHeight: number,
    hStarts: number,
    hCounts: number,
    hWeights: number,
    hTaps: number,
    hFixed: number,
    vStarts: number,
    vCounts: number,
    vWeights: number,
    vTaps: number,
    scratch: number,
  ) => void;
  box_shrink: (
    src: number,
    width: number,
    fx: number,
    fy: number,
    dst: number,
    outWidth: number,
    outHeight: number,
    scratch: number,
  ) => void;
};

/** wasm/resample's FIXED_BITS: weights in fixed point with 14 fractional bits. */
const FIXED_ONE = 1 << 14;

/**
 * The horizontal weights in 16-bit fixed point for the opaque rows' integer pass: each position's
 * rounded so they sum to exactly `FIXED_ONE` (the rounding error goes to its largest weight), laid
 * out as the pass reads them, a pair of taps per 16 bytes (w0 w1 w0 w1 w0 w1 w0 w1). The filters'
 * normalised weights stay within ±1.3 (test/unit/kernels.test.ts), well inside the ±2 that 16
 * bits hold.
 */
function fixedPairs({ counts, weights, taps }: ReturnType<typeof resampleWeights>): Int16Array {
  const pairs = Math.ceil(taps / 2);
  const out = new Int16Array(counts.length * pairs * 8);
  const row = new Int16Array(pairs * 2);
  for (let o = 0; o < counts.length; o++) {
    row.fill(0);
    let sum = 0;
    let largest = 0;
    for (let k = 0; k < (counts[o] as number); k++) {
      const w = Math.round((weights[o * taps + k] as number) * FIXED_ONE);
      row[k] = w;
      sum += w;
      if (Math.abs(w) > Math.abs(row[largest] as number)) largest = k;
    }
    row[largest] = (row[largest] as number) + FIXED_ONE - sum;
    for (let p = 0; p < pairs; p++) {
      for (let lane = 0; lane < 8; lane++) {
        out[(o * pairs + p) * 8 + lane] = row[2 * p + (lane & 1)] as number;
      }
    }
  }
  return out;
}

export type Resampler = {
  /**
   * Resamples RGBA to `width` × `height` with a separable filter, in premultiplied alpha on sRGB
   * values (as jSquash's resizer and sharp do by default). Does not mutate `img`. `allocate`:
   * where the output goes (default: a new raster).
   */
  resample(
    img: RgbaImage,
    width: number,
    height: number,
    filter: ResampleFilter,
    allocate?: AllocateRgba,
  ): RgbaImage;
  /**
   * libvips' integer box shrink (`shrink`): each output pixel is the mean of a `factorX` ×
   * `factorY` block of source pixels, and the output is floor(width / factorX) × floor(height /
   * factorY). Like libvips, the right columns and bottom rows that do not fill a whole block are
   * dropped, so every output pixel weighs the same number of source pixels; factors may not
   * exceed the image's sides, so the output is at least 1×1. Colour is averaged weighted by alpha
   * (premultiply, mean, unpremultiply) so transparent pixels do not darken edges, and alpha is the
   * plain mean; both are rounded half up, in exact integer arithmetic. A block with no opacity at
   * all becomes transparent black, as in libvips. Factors of 1 × 1 return a copy. Does not mutate
   * `img`; RangeErrors name a bad factor. `allocate`: where the output goes (default: a new
   * raster), as for `resample`.
   */
  shrink(img: RgbaImage, factorX: number, factorY: number, allocate?: AllocateRgba): RgbaImage;
  /** The instance's linear memory in bytes: it only grows. */
  memoryBytes(): number;
};

/**
 * Pictor's resampler: the weights of `resampleWeights` convolved by wasm/resample/ (C, 128-bit
 * SIMD: one RGBA pixel per f32x4), which does in a few milliseconds what jSquash's resizer did in
 * tens, holding besides the input and output only a ring of horizontally resampled rows; and the
 * box shrink before it (9 MP by 3 × 3: 50 ms in the JavaScript loop it replaced, 35 ms here with
 * the copies in and out of wasm memory). The
 * instance keeps no state between calls; its memory grows to the largest call's buffers.
 *
 * @example
 * const resampler = await instantiateResampler(await loadLocalWasm("resample"));
 * resampler.resample(img, 800, 500, "lanczos3");
 */
export async function instantiateResampler(module: WebAssembly.Module): Promise<Resampler> {
  const instance = await WebAssembly.instantiate(module, {});
  const x = instance.exports as unknown as Exports;
  const base = x.__heap_base.value as number;

  /** Lays buffers out from __heap_base, each 16-byte aligned for the vector loads. */
  function layout() {
    let end = base;
    return {
      take(bytes: number) {
        const at = (end + 15) & ~15;
        end = at + bytes;
        return at;
      },
      /** Grows the memory to hold everything taken; returns a view of it. */
      heap() {
        const grow = end - x.memory.buffer.byteLength;
        if (grow > 0) x.memory.grow(Math.ceil(grow / 65536));
        return new Uint8Array(x.memory.buffer);
      },
    };
  }

  return {
    memoryBytes: () => x.memory.buffer.byteLength,

    shrink(img, factorX, factorY, allocate = createRgba) {
      expectRgba(img);
      expectInteger("factorX", factorX, 1, img.width);
      expectInteger("factorY", factorY, 1, img.height);
      if (factorX === 1 && factorY === 1) {
        return { data: img.data.slice(), width: img.width, height: img.height };
      }
      const width = Math.floor(img.width / factorX);
      const height = Math.floor(img.height / factorY);
      // A band of output rows at a time, so that the memory holds a few MB of the image rather
      // than all of it (an edge isolate has 128 MB in all).
      const sourceRowBytes = img.width * 4;
      const band = Math.max(1, Math.floor(SHRINK_BAND_BYTES / (factorY * sourceRowBytes)));
      const { take, heap } = layout();
      const src = take(Math.min(band, height) * factorY * sourceRowBytes);
      const dst = take(Math.min(band, height) * width * 4);
      const scratch = take(32 * width);
      const memory = heap();
      const out = allocate(width, height);
      for (let y = 0; y < height; y += band) {
        const rows = Math.min(band, height - y);
        const from = y * factorY * sourceRowBytes;
        memory.set(img.data.subarray(from, from + rows * factorY * sourceRowBytes), src);
        x.box_shrink(src, img.width, factorX, factorY, dst, width, rows, scratch);
        out.data.set(memory.subarray(dst, dst + rows * width * 4), y * width * 4);
      }
      return out;
    },

    resample(img, width, height, filter, allocate = createRgba) {
      const h = resampleWeights(img.width, width, filter);
      const v = resampleWeights(img.height, height, filter);
      const { take, heap: grown } = layout();
      const src = take(img.data.length);
      const dst = take(width * height * 4);
      const hStarts = take(h.starts.byteLength);
      const hCounts = take(h.counts.byteLength);
      const hWeights = take(h.weights.byteLength);
      const fixed = fixedPairs(h);
      const hFixed = take(fixed.byteLength);
      const vStarts = take(v.starts.byteLength);
      const vCounts = take(v.counts.byteLength);
      const vWeights = take(v.weights.byteLength);
      const scratch = take(16 * (img.width + (v.taps + 1) * width));
      const heap = grown();
      heap.set(img.data, src);
      heap.set(new Uint8Array(h.starts.buffer), hStarts);
      heap.set(new Uint8Array(h.counts.buffer), hCounts);
      heap.set(new Uint8Array(h.weights.buffer), hWeights);
      heap.set(new Uint8Array(fixed.buffer), hFixed);
      heap.set(new Uint8Array(v.starts.buffer), vStarts);
      heap.set(new Uint8Array(v.counts.buffer), vCounts);
      heap.set(new Uint8Array(v.weights.buffer), vWeights);
      x.resample(
        src,
        img.width,
        img.height,
        dst,
        width,
        height,
        hStarts,
        hCounts,
        hWeights,
        h.taps,
        hFixed,
        vStarts,
        vCounts,
        vWeights,
        v.taps,
        scratch,
      );
      const out = allocate(width, height);
      out.data.set(new Uint8ClampedArray(x.memory.buffer, dst, width * height * 4));
      return out;
    },
  };
}
