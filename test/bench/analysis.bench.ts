/**
 * Analysis kernels on a 12 MP photo, one thread, against the memory-bandwidth floor (one copy of
 * the RGBA buffer) and sharp's .stats() on the same image.
 *
 *   npm run bench:analysis
 *   BENCH_RUNS=3 npm run bench:analysis
 */
import sharp from "sharp";
import { createCodecs } from "../../src/imaging/codecs.ts";
import { histogramRgba } from "../../src/imaging/histogram.ts";
import { loadWasmFromNodeModules } from "../../src/runtime/bun/wasm.ts";
import { fixture } from "../support/fixtures.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function time(fn: () => unknown): Promise<number> {
  await fn();
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn();
    runs.push(performance.now() - t);
    Bun.gc(true);
  }
  return median(runs);
}

sharp.concurrency(1);
const photo = await fixture("exif-orientation/Landscape_1.jpg");
const jpeg = new Uint8Array(await sharp(photo).resize(4000, 3000).jpeg({ quality: 90 }).toBuffer());
const img = await createCodecs(loadWasmFromNodeModules).decode(jpeg, "jpeg");

const floor = await time(() => img.data.slice());
const rows: Record<string, string | number>[] = [
  { step: "copy the RGBA buffer once (floor)", ms: Number(floor.toFixed(1)), "× floor": 1 },
];
const add = async (step: string, fn: () => unknown) => {
  const ms = await time(fn);
  rows.push({ step, ms: Number(ms.toFixed(1)), "× floor": Number((ms / floor).toFixed(1)) });
};

for (const space of ["rgb", "luma", "hsv", "lab"] as const) {
  await add(`histogram ${space}, 256 bins + statistics`, () => histogramRgba(img, space, 256));
}
const raw = sharp(Buffer.from(img.data.buffer), {
  raw: { width: img.width, height: img.height, channels: 4 },
});
await add("sharp .stats() on the same raw pixels", () => raw.clone().stats());

console.log(`\nAnalysis of a ${img.width}×${img.height} image, one thread, median of ${RUNS}`);
console.table(rows);
