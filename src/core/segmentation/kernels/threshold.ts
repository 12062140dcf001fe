import { type BinaryMask, expectGrid } from "./types.ts";

/**
 * Foreground where `value > threshold` (scikit-image's `image > threshold_otsu(image)`), or with
 * `invert` where `value <= threshold`. Does not mutate `values`.
 *
 * @example
 * thresholdMask(new Uint8Array([10, 200, 128, 129]), 2, 2, 128, false).data; // [0, 1, 0, 1]
 */
export function thresholdMask(
  values: Uint8Array,
  width: number,
  height: number,
  threshold: number,
  invert: boolean,
): BinaryMask {
  expectGrid("values", values.length, width, height);
  if (!Number.isFinite(threshold)) {
    throw new RangeError(`Expected a finite number for threshold but received ${threshold}`);
  }
  const data = new Uint8Array(values.length);
  const fg = invert ? 0 : 1;
  for (let i = 0; i < values.length; i++) {
    data[i] = (values[i] as number) > threshold ? fg : 1 - fg;
  }
  return { data, width, height };
}
