import { expectRgba } from "../../imaging/kernels/validate.ts";
import type { RgbaImage } from "../../imaging/raster.ts";
import { type ColourMetric, colourInto, expectGrowOptions } from "./colour.ts";
import { type BinaryMask, type Connectivity, expectConnectivity, NEIGHBOURS } from "./types.ts";

export type GrowOptions = {
  /** Largest colour distance from the seed's colour that still joins: ΔE for lab, 0–441 for rgb. */
  tolerance: number;
  metric: ColourMetric;
  connectivity: Connectivity;
};

export type Seed = { x: number; y: number };

/** The per-channel median colour of the (up to) 3×3 pixels around `at`, into `out`. */
function medianAround(img: RgbaImage, at: Seed, metric: ColourMetric, out: Float64Array): void {
  const { width, height, data } = img;
  const channels: [number[], number[], number[]] = [[], [], []];
  const c = new Float64Array(3);
  for (let y = Math.max(0, at.y - 1); y <= Math.min(height - 1, at.y + 1); y++) {
    for (let x = Math.max(0, at.x - 1); x <= Math.min(width - 1, at.x + 1); x++) {
      const i = 4 * (y * width + x);
      colourInto(metric, data[i] as number, data[i + 1] as number, data[i + 2] as number, c);
      channels.forEach((values, ch) => {
        values.push(c[ch] as number);
      });
    }
  }
  channels.forEach((values, ch) => {
    values.sort((a, b) => a - b);
    out[ch] = values[values.length >> 1] as number;
  });
}

/**
 * Seeded region growing: from each seed, every pixel connected to it through pixels whose colour
 * lies within `tolerance` of the seed's colour: the per-channel median of the 3×3 pixels around
 * the seed, so that neither one noisy pixel nor a seed placed on an edge decides. The reference
 * stays fixed, so the result does not depend on the order of the fill (an explicit stack); the
 * seeds' regions are joined in one mask. Alpha is ignored. Does not mutate `img`.
 *
 * @example
 * const mask = regionGrow(img, [{ x: 50, y: 40 }], { tolerance: 10, metric: "lab", connectivity: 8 });
 */
export function regionGrow(
  img: RgbaImage,
  seeds: readonly Seed[],
  options: GrowOptions,
): BinaryMask {
  expectRgba(img);
  expectGrowOptions(options);
  expectConnectivity(options.connectivity);
  const { width, height, data: px } = img;
  if (seeds.length === 0 || seeds.length > 65535) {
    throw new RangeError(`Expected between 1 and 65535 seeds but received ${seeds.length}`);
  }
  for (const { x, y } of seeds) {
    if (
      !Number.isInteger(x) ||
      !Number.isInteger(y) ||
      x < 0 ||
      y < 0 ||
      x >= width ||
      y >= height
    ) {
      throw new RangeError(
        `Expected every seed inside the ${width}×${height} image but received (${x}, ${y})`,
      );
    }
  }
  const { metric } = options;
  // The slack keeps a tolerance of 0 meaning "the same colour" despite rounding in the means.
  const tol2 = options.tolerance * options.tolerance + 1e-9;
  const neighbours = NEIGHBOURS[options.connectivity];
  const n = width * height;
  const data = new Uint8Array(n);
  // Which seed's fill last tested a pixel: each pixel is tested at most once per seed.
  const tested = new Uint16Array(n);
  const stack = new Int32Array(n);
  const c = new Float64Array(3);
  const ref = new Float64Array(3);
  const colourAt = (p: number) =>
    colourInto(metric, px[4 * p] as number, px[4 * p + 1] as number, px[4 * p + 2] as number, c);

  seeds.forEach((seed, k) => {
    const stamp = k + 1;
    medianAround(img, seed, metric, ref);
    const start = seed.y * width + seed.x;
    tested[start] = stamp;
    data[start] = 1;
    let top = 0;
    stack[top++] = start;
    while (top > 0) {
      const p = stack[--top] as number;
      const py = (p / width) | 0;
      const pxx = p - py * width;
      for (const [dx, dy] of neighbours) {
        const x = pxx + dx;
        const y = py + dy;
        if (x < 0 || y < 0 || x >= width || y >= height) continue;
        const q = y * width + x;
        if (tested[q] === stamp) continue;
        tested[q] = stamp;
        colourAt(q);
        const d0 = (c[0] as number) - (ref[0] as number);
        const d1 = (c[1] as number) - (ref[1] as number);
        const d2 = (c[2] as number) - (ref[2] as number);
        if (d0 * d0 + d1 * d1 + d2 * d2 > tol2) continue;
        data[q] = 1;
        stack[top++] = q;
      }
    }
  });
  return { data, width, height };
}
