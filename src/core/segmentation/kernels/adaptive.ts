import { expectInteger } from "../../imaging/kernels/validate.ts";
import { type BinaryMask, expectGrid } from "./types.ts";

export type AdaptiveOptions = {
  /** The local level: the plain mean of the block, or a Gaussian with σ = (blockSize − 1) / 6. */
  method: "mean" | "gaussian";
  /** Odd side of the neighbourhood, in pixels. */
  blockSize: number;
  /** Subtracted from the local level: positive values keep faint foreground out. */
  offset: number;
};

/**
 * scipy.ndimage's "reflect" border (d c b a | a b c d | d c b a), for an index any distance
 * outside 0…n-1.
 */
function reflect(i: number, n: number): number {
  const period = 2 * n;
  const m = ((i % period) + period) % period;
  return m < n ? m : period - 1 - m;
}

/** `from`…`to` mapped through reflect: the source index of each padded position. */
const reflectedRange = (from: number, to: number, n: number) =>
  Int32Array.from({ length: to - from + 1 }, (_, k) => reflect(from + k, n));

/**
 * Local (adaptive) thresholding, as scikit-image's `image > threshold_local(image, blockSize,
 * method, offset)`: a pixel is foreground when its value exceeds the level of its neighbourhood
 * minus `offset`, so text and edges stand out under uneven lighting. Borders reflect like
 * scipy.ndimage's. The mean costs O(1) per pixel (running sums, exact in integers); the Gaussian
 * O(blockSize) per pixel (separable, truncated at 4σ like scipy). Does not mutate `values`.
 *
 * @example
 * adaptiveThresholdMask(luma, width, height, { method: "gaussian", blockSize: 35, offset: 10 });
 */
export function adaptiveThresholdMask(
  values: Uint8Array,
  width: number,
  height: number,
  options: AdaptiveOptions,
): BinaryMask {
  expectGrid("values", values.length, width, height);
  const { method, blockSize, offset } = options;
  expectInteger("blockSize", blockSize, 3, 1023);
  if (blockSize % 2 === 0) {
    throw new RangeError(`Expected an odd integer for blockSize but received ${blockSize}`);
  }
  if (!Number.isFinite(offset)) {
    throw new RangeError(`Expected a finite number for offset but received ${offset}`);
  }
  if (method === "mean") return meanMask(values, width, height, blockSize, offset);
  if (method === "gaussian") return gaussianMask(values, width, height, blockSize, offset);
  throw new RangeError(`Expected mean or gaussian for method but received ${String(method)}`);
}

function meanMask(
  values: Uint8Array,
  width: number,
  height: number,
  size: number,
  offset: number,
): BinaryMask {
  const r = (size - 1) / 2;
  // Horizontal window sums per row (≤ 255 × 1023, exact in Int32), from padded prefix sums.
  const rowSums = new Int32Array(width * height);
  const xs = reflectedRange(-r, width - 1 + r, width);
  const prefix = new Int32Array(xs.length + 1);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let k = 0; k < xs.length; k++) {
      prefix[k + 1] = (prefix[k] as number) + (values[row + (xs[k] as number)] as number);
    }
    for (let x = 0; x < width; x++) {
      rowSums[row + x] = (prefix[x + size] as number) - (prefix[x] as number);
    }
  }
  // Vertical: a running sum of whole rows, one row in and one out per step, row-contiguous.
  const ys = reflectedRange(-r - 1, height - 1 + r, height);
  const acc = new Float64Array(width);
  for (let k = 1; k <= size; k++) addRow(acc, rowSums, (ys[k] as number) * width, 1);
  const data = new Uint8Array(width * height);
  const area = size * size;
  const bias = offset * area;
  for (let y = 0; y < height; y++) {
    if (y > 0) {
      addRow(acc, rowSums, (ys[y + size] as number) * width, 1);
      addRow(acc, rowSums, (ys[y] as number) * width, -1);
    }
    // value > sum / area − offset, multiplied out so that it stays exact for integer offsets.
    const row = y * width;
    for (let x = 0; x < width; x++) {
      data[row + x] = (values[row + x] as number) * area + bias > (acc[x] as number) ? 1 : 0;
    }
  }
  return { data, width, height };
}

function addRow(acc: Float64Array, rows: Int32Array, start: number, sign: number): void {
  for (let x = 0; x < acc.length; x++) {
    acc[x] = (acc[x] as number) + sign * (rows[start + x] as number);
  }
}

/** scipy.ndimage's Gaussian kernel: σ, truncated at radius round(4σ), normalised to sum 1. */
function gaussianKernel(sigma: number): Float64Array {
  const radius = Math.floor(4 * sigma + 0.5);
  const k = Float64Array.from({ length: 2 * radius + 1 }, (_, i) =>
    Math.exp((-0.5 * (i - radius) ** 2) / (sigma * sigma)),
  );
  const sum = k.reduce((a, b) => a + b, 0);
  return k.map((v) => v / sum);
}

function gaussianMask(
  values: Uint8Array,
  width: number,
  height: number,
  size: number,
  offset: number,
): BinaryMask {
  const kernel = gaussianKernel((size - 1) / 6);
  const r = (kernel.length - 1) / 2;
  // Vertical pass first, row-contiguous: each output row is a weighted sum of whole input rows.
  const ys = reflectedRange(-r, height - 1 + r, height);
  const smooth = new Float32Array(width * height);
  const acc = new Float64Array(width);
  // The kernel is symmetric: rows k and 2r − k share a weight, so add them first (as scipy does).
  for (let y = 0; y < height; y++) {
    const centre = (ys[y + r] as number) * width;
    const w0 = kernel[r] as number;
    for (let x = 0; x < width; x++) acc[x] = w0 * (values[centre + x] as number);
    for (let k = 0; k < r; k++) {
      const w = kernel[k] as number;
      const above = (ys[y + k] as number) * width;
      const below = (ys[y + 2 * r - k] as number) * width;
      for (let x = 0; x < width; x++) {
        acc[x] =
          (acc[x] as number) + w * ((values[above + x] as number) + (values[below + x] as number));
      }
    }
    smooth.set(acc, y * width);
  }
  // Horizontal pass on a reflected copy of each row, then the comparison.
  const xs = reflectedRange(-r, width - 1 + r, width);
  const padded = new Float64Array(xs.length);
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let k = 0; k < xs.length; k++) padded[k] = smooth[row + (xs[k] as number)] as number;
    for (let x = 0; x < width; x++) {
      let level = (kernel[r] as number) * (padded[x + r] as number);
      for (let k = 0; k < r; k++) {
        level +=
          (kernel[k] as number) * ((padded[x + k] as number) + (padded[x + 2 * r - k] as number));
      }
      data[row + x] = (values[row + x] as number) > level - offset ? 1 : 0;
    }
  }
  return { data, width, height };
}
