import type { RgbaImage } from "../raster.ts";
import { expectInteger, expectRgba } from "./validate.ts";

/**
 * libvips' integer box shrink (`shrink`): each output pixel is the mean of a `factorX` ×
 * `factorY` block of source pixels, and the output is floor(width / factorX) × floor(height /
 * factorY). Like libvips, the right columns and bottom rows that do not fill a whole block are
 * dropped, so every output pixel weighs the same number of source pixels; factors may not exceed
 * the image's sides, so the output is at least 1×1. Colour is averaged weighted by alpha
 * (premultiply, mean, unpremultiply) so transparent pixels do not darken edges, and alpha is the
 * plain mean; both are rounded half up. A block with no opacity at all becomes transparent black,
 * as in libvips. Factors of 1 × 1 return a copy. Does not mutate `img`.
 *
 * @example
 * boxShrinkRgba(img4000x3000, 2, 2); // a 2000×1500 image
 */
export function boxShrinkRgba(img: RgbaImage, factorX: number, factorY: number): RgbaImage {
  expectRgba(img);
  expectInteger("factorX", factorX, 1, img.width);
  expectInteger("factorY", factorY, 1, img.height);
  if (factorX === 1 && factorY === 1) {
    return { data: img.data.slice(), width: img.width, height: img.height };
  }
  const outW = Math.floor(img.width / factorX);
  const outH = Math.floor(img.height / factorY);
  const out = new Uint8ClampedArray(outW * outH * 4);
  shrinkInto(img.data, img.width * 4, factorX, factorY, outW, outH, out);
  return { data: out, width: outW, height: outH };
}

// One pass over the source, row by row: each row adds its blocks' sums to one accumulator row.
// Float64 accumulators measure as fast as Uint32 ones here and stay exact to 2^53, where Uint32
// would overflow past 257 × 257-pixel blocks (255 × 255 per pixel).
function shrinkInto(
  src: Uint8ClampedArray,
  rowBytes: number,
  fx: number,
  fy: number,
  outW: number,
  outH: number,
  out: Uint8ClampedArray,
): void {
  const accLen = outW * 4;
  const acc = new Float64Array(accLen);
  const n = fx * fy;
  const nInverse = 1 / n;
  const nBias = 0.5 * n + 0.25;
  let o = 0;
  for (let oy = 0; oy < outH; oy++) {
    acc.fill(0);
    for (let sy = oy * fy, yEnd = sy + fy; sy < yEnd; sy++) {
      let s = sy * rowBytes;
      if (fx === 2) {
        // The thumbnail case, unrolled. Summing a block's integers before the one float add to
        // the accumulator is worth 20%.
        for (let k = 0; k < accLen; k += 4, s += 8) {
          const a0 = src[s + 3] as number;
          const a1 = src[s + 7] as number;
          const r = (src[s] as number) * a0 + (src[s + 4] as number) * a1;
          const g = (src[s + 1] as number) * a0 + (src[s + 5] as number) * a1;
          const b = (src[s + 2] as number) * a0 + (src[s + 6] as number) * a1;
          acc[k] = (acc[k] as number) + r;
          acc[k + 1] = (acc[k + 1] as number) + g;
          acc[k + 2] = (acc[k + 2] as number) + b;
          acc[k + 3] = (acc[k + 3] as number) + (a0 + a1);
        }
        continue;
      }
      for (let k = 0; k < accLen; k += 4) {
        let r = 0;
        let g = 0;
        let b = 0;
        let a = 0;
        for (let i = 0; i < fx; i++, s += 4) {
          const alpha = src[s + 3] as number;
          r += (src[s] as number) * alpha;
          g += (src[s + 1] as number) * alpha;
          b += (src[s + 2] as number) * alpha;
          a += alpha;
        }
        acc[k] = (acc[k] as number) + r;
        acc[k + 1] = (acc[k + 1] as number) + g;
        acc[k + 2] = (acc[k + 2] as number) + b;
        acc[k + 3] = (acc[k + 3] as number) + a;
      }
    }
    for (let k = 0; k < accLen; k += 4, o += 4) {
      const a = acc[k + 3] as number;
      if (a === 0) continue;
      // s / a rounded half up as floor((s + a/2 + 1/4) × (1/a)), one division per pixel instead
      // of four, and `| 0` floors (a clamped store alone rounds half to even). Exact: s/a + 1/2
      // is whole or at least 1/(2a) below the next whole number, and the 1/(4a) margin dwarfs
      // the ~1e-13 error of the reciprocal for any a below 10^12.
      const inverse = 1 / a;
      const bias = 0.5 * a + 0.25;
      out[o] = (((acc[k] as number) + bias) * inverse) | 0;
      out[o + 1] = (((acc[k + 1] as number) + bias) * inverse) | 0;
      out[o + 2] = (((acc[k + 2] as number) + bias) * inverse) | 0;
      out[o + 3] = ((a + nBias) * nInverse) | 0;
    }
  }
}

/**
 * Integer box-shrink factors that bring the image down to at most twice the target size in each
 * dimension, but never below the target: libvips' thumbnail rule of shrinking cheaply first and
 * leaving the filter a reduction of less than 2×. 1 where no shrink is warranted; each axis is
 * independent.
 *
 * @example
 * shrinkFactorsFor(4000, 3000, 800, 600); // [3, 3]: 1333×1000 is within 2× of 800×600
 */
export function shrinkFactorsFor(
  srcW: number,
  srcH: number,
  dstW: number,
  dstH: number,
): [number, number] {
  const max = Number.MAX_SAFE_INTEGER;
  expectInteger("srcW", srcW, 1, max);
  expectInteger("srcH", srcH, 1, max);
  expectInteger("dstW", dstW, 1, max);
  expectInteger("dstH", dstH, 1, max);
  // floor(src / f) ≤ 2 × dst needs f ≥ src / (2 × dst); floor(src / f) ≥ dst needs f ≤ src / dst.
  const factor = (src: number, dst: number) =>
    Math.max(1, Math.min(Math.ceil(src / (2 * dst)), Math.floor(src / dst)));
  return [factor(srcW, dstW), factor(srcH, dstH)];
}
