import { expectInteger } from "./validate.ts";

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
