/**
 * Median time of the hand-written kernels on a 12 MP (4000×3000) RGBA image, one thread.
 *
 *   bun test/bench/kernels.bench.ts
 *   BENCH_RUNS=21 bun test/bench/kernels.bench.ts
 *   BENCH_ONLY=boxShrink bun test/bench/kernels.bench.ts
 */

import { loadLocalWasm } from "../../src/adapters/bun/wasm.ts";
import {
  entropyCropOffset,
  flopRgba,
  grayscaleRgba,
  rotateRgba,
  rotateRightAngle,
} from "../../src/core/imaging/kernels.ts";
import type { RgbaImage } from "../../src/core/imaging/raster.ts";
import { instantiateResampler } from "../../src/core/imaging/resampler.ts";

const resampler = await instantiateResampler(await loadLocalWasm("resample"));

const RUNS = Number(process.env.BENCH_RUNS ?? 11);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function time(fn: () => unknown): number {
  fn(); // warm-up: JIT
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    fn();
    runs.push(performance.now() - t);
  }
  return median(runs);
}

// Photo-like content: smooth gradients plus noise, with a varying alpha so the alpha-weighted
// path is not skipped by any shortcut.
function photoLike(width: number, height: number, opaque: boolean): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  let seed = 12345;
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i += 4) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const noise = (seed >>> 24) & 31;
      data[i] = (x * 255) / width + noise;
      data[i + 1] = (y * 255) / height + noise;
      data[i + 2] = ((x + y) * 127) / (width + height) + noise;
      data[i + 3] = opaque ? 255 : 128 + ((x ^ y) & 127);
    }
  }
  return { data, width, height };
}

const opaque = photoLike(4000, 3000, true);
const translucent = photoLike(4000, 3000, false);
const small = photoLike(1000, 750, true);

const rows: [string, RgbaImage, () => unknown][] = [
  ["box shrink ×2 (opaque)", opaque, () => resampler.shrink(opaque, 2, 2)],
  ["box shrink ×2 (alpha)", translucent, () => resampler.shrink(translucent, 2, 2)],
  ["box shrink ×5 (opaque)", opaque, () => resampler.shrink(opaque, 5, 5)],
  ["rotateRightAngle 90", opaque, () => rotateRightAngle(opaque, 90)],
  ["rotateRightAngle 180", opaque, () => rotateRightAngle(opaque, 180)],
  ["flopRgba", opaque, () => flopRgba(opaque)],
  ["grayscaleRgba", opaque, () => grayscaleRgba(opaque)],
  ["rotateRgba 30° (1000×750)", small, () => rotateRgba(small, 30, [0, 0, 0, 0])],
  ["entropyCropOffset → 3000×3000", opaque, () => entropyCropOffset(opaque, 3000, 3000)],
];

// BENCH_ONLY=flop times only the kernels whose name contains it (JIT state shared with other
// kernels can shift numbers by tens of percent).
const only = process.env.BENCH_ONLY;
const results = rows
  .filter(([name]) => !only || name.includes(only))
  .map(([name, input, fn]) => {
    const ms = time(fn);
    const megapixels = (input.width * input.height) / 1e6;
    return {
      kernel: name,
      "median ms": Number(ms.toFixed(1)),
      "MP/s": Math.round(megapixels / (ms / 1000)),
    };
  });
console.table(results);
