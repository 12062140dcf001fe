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
      const vStarts = take(v.starts.byteLength);
      const vCounts = take(v.counts.byteLength);
      const vWeights = take(v.weights.byteLength);
      const scratch = take(16 * (img.width + (v.taps + 1) * width));
      const heap = grown();
      heap.set(img.data, src);
      heap.set(new Uint8Array(h.starts.buffer), hStarts);
      heap.set(new Uint8Array(h.counts.buffer), hCounts);
      heap.set(new Uint8Array(h.weights.buffer), hWeights);
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
