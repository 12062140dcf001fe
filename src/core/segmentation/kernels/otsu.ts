import { expectInteger } from "../../imaging/kernels/validate.ts";
import { levelCounts } from "./channels.ts";

/** The levels from the lowest to the highest present, and how many values each has. */
function occupiedRange(counts: Float64Array): { min: number; bins: Float64Array } {
  let min = 0;
  while (min < 255 && counts[min] === 0) min++;
  let max = 255;
  while (max > min && counts[max] === 0) max--;
  return { min, bins: counts.subarray(min, max + 1) };
}

const expectValues = (values: Uint8Array) => {
  if (values.length === 0) throw new RangeError("Expected at least one value but received none");
};

/**
 * Otsu's threshold of 8-bit values: the level t that maximises the between-class variance of
 * `value <= t` and `value > t`. Computed exactly as scikit-image's `threshold_otsu` does on a
 * uint8 image (one bin per level between the lowest and highest present; the first maximum wins;
 * a constant input returns its value), so `values > t` is its foreground.
 *
 * @example
 * otsuThreshold(new Uint8Array([10, 12, 11, 200, 210, 205])); // 12
 */
export function otsuThreshold(values: Uint8Array): number {
  expectValues(values);
  return otsuOfCounts(levelCounts(values));
}

/** Otsu's threshold from the 256 level counts (see otsuThreshold). */
function otsuOfCounts(counts: Float64Array): number {
  const { min, bins } = occupiedRange(counts);
  const n = bins.length;
  if (n === 1) return min;
  let total = 0;
  let totalMoment = 0;
  for (let i = 0; i < n; i++) {
    total += bins[i] as number;
    totalMoment += (bins[i] as number) * (min + i);
  }
  // The same operations as scikit-image: integer cumulative sums, then
  // w1[i] * w2[i + 1] * (mean1[i] - mean2[i + 1]) ** 2, first argmax.
  let w1 = 0;
  let m1 = 0;
  let best = -1;
  let bestAt = 0;
  for (let i = 0; i < n - 1; i++) {
    w1 += bins[i] as number;
    m1 += (bins[i] as number) * (min + i);
    const w2 = total - w1;
    const d = m1 / w1 - (totalMoment - m1) / w2;
    const variance = w1 * w2 * (d * d);
    if (variance > best) {
      best = variance;
      bestAt = i;
    }
  }
  return min + bestAt;
}

/**
 * Multi-Otsu thresholds of 8-bit values: the `classes - 1` levels t0 < t1 < … that maximise the
 * between-class variance of the classes `value <= t0`, `t0 < value <= t1`, …, `value > t_last`
 * (scikit-image's `threshold_multiotsu`, whose classes include their upper threshold). Dynamic
 * programming over the level histogram, O(classes × 256²), where scikit-image searches every
 * combination; ties go to the lowest thresholds, as its search order does. Throws a RangeError
 * when there are fewer distinct values than classes.
 *
 * @example
 * multiOtsuThresholds(new Uint8Array([10, 11, 100, 101, 200, 201]), 3); // [11, 101]
 */
export function multiOtsuThresholds(values: Uint8Array, classes: number): number[] {
  expectInteger("classes", classes, 2, 16);
  expectValues(values);
  const { min, bins } = occupiedRange(levelCounts(values));
  const n = bins.length;
  const occupied: number[] = [];
  for (let i = 0; i < n; i++) if ((bins[i] as number) > 0) occupied.push(i);
  if (occupied.length < classes) {
    throw new RangeError(
      `Expected at least ${classes} distinct values for ${classes} classes but received ${occupied.length}`,
    );
  }
  if (occupied.length === classes) return occupied.slice(0, -1).map((i) => min + i);

  // Zeroth and first moments up to each bin: a class [i, j] contributes S² / P, where
  // P = its count and S = Σ count × bin.
  const p = new Float64Array(n + 1);
  const s = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    p[i + 1] = (p[i] as number) + (bins[i] as number);
    s[i + 1] = (s[i] as number) + (bins[i] as number) * i;
  }
  const score = (i: number, j: number) => {
    const w = (p[j + 1] as number) - (p[i] as number);
    if (w <= 0) return 0;
    const m = (s[j + 1] as number) - (s[i] as number);
    return (m * m) / w;
  };
  // tail[k][i]: the best score of classes k…classes-1 over bins i…n-1, each class non-empty in
  // bins. Built from the right, so that the thresholds can then be chosen from the left, each the
  // lowest that reaches the optimum.
  const thresholds = classes - 1;
  const tail = Array.from({ length: classes }, () => new Float64Array(n + 1));
  for (let i = 0; i < n; i++) (tail[thresholds] as Float64Array)[i] = score(i, n - 1);
  for (let k = thresholds - 1; k >= 0; k--) {
    const here = tail[k] as Float64Array;
    const next = tail[k + 1] as Float64Array;
    for (let i = k; i <= n - classes + k; i++) {
      let best = Number.NEGATIVE_INFINITY;
      for (let t = i; t <= n - classes + k; t++) {
        const v = score(i, t) + (next[t + 1] as number);
        if (v > best) best = v;
      }
      here[i] = best;
    }
  }
  const out: number[] = [];
  let start = 0;
  for (let k = 0; k < thresholds; k++) {
    const next = tail[k + 1] as Float64Array;
    const target = (tail[k] as Float64Array)[start] as number;
    let t = start;
    while (score(start, t) + (next[t + 1] as number) !== target) t++;
    out.push(min + t);
    start = t + 1;
  }
  return out;
}
