/**
 * Analysis kernels on a 12 MP photo, one thread, against the memory-bandwidth floor (one copy of
 * the RGBA buffer) and sharp's .stats() on the same image.
 *
 *   npm run bench:analysis
 *   BENCH_RUNS=3 npm run bench:analysis
 */
import sharp from "sharp";
import { loadLocalWasm } from "../../src/adapters/bun/wasm.ts";
import { histogramRgba } from "../../src/core/analysis/histogram.ts";
import { chartRgba, chartSvg, histogramChart } from "../../src/core/analysis/histogram-chart.ts";
import { paletteRgba } from "../../src/core/analysis/palette.ts";
import { createCodecs } from "../../src/core/formats/codecs.ts";
import {
  adaptiveThresholdMask,
  growRegions,
  labelComponents,
  lumaOf,
  otsuThreshold,
  regionGrow,
  regionStats,
  thresholdMask,
} from "../../src/core/segmentation/kernels/index.ts";
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
const img = await createCodecs(loadLocalWasm).decode(jpeg, "jpeg");

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

// Palette and histogram charts: a section of their own.
const firstExtra = rows.length;
for (const k of [5, 16]) await add(`palette, ${k} colours`, () => paletteRgba(img, k));
const rgbHistogram = histogramRgba(img, "rgb", 256);
await add("chart of the rgb histogram, SVG", () => chartSvg(histogramChart(rgbHistogram)));
const chartCodecs = createCodecs(loadLocalWasm);
await add("chart of the rgb histogram, PNG (raster + encode)", () =>
  chartCodecs.encode(chartRgba(histogramChart(rgbHistogram)), { format: "png" }),
);
console.table(rows.slice(firstExtra));

// Segmentation kernels: a section of their own. The first row is what an Otsu segmentation does
// before measuring its regions: luma, histogram and threshold, the mask, the components.
const firstSegmentation = rows.length;
const luma = lumaOf(img);
const otsuMask = thresholdMask(luma, img.width, img.height, otsuThreshold(luma), false);
const components = labelComponents(otsuMask, 8);
await add("segment: luma + Otsu + binary mask + labelling (8)", () => {
  const values = lumaOf(img);
  const mask = thresholdMask(values, img.width, img.height, otsuThreshold(values), false);
  return labelComponents(mask, 8);
});
await add("segment: labelling alone, 8-connected", () => labelComponents(otsuMask, 8));
await add("segment: labelling alone, 4-connected", () => labelComponents(otsuMask, 4));
await add(`segment: region stats of ${components.count} components`, () =>
  regionStats(components, img),
);
for (const method of ["mean", "gaussian"] as const) {
  await add(`segment: adaptive ${method}, blockSize 35`, () =>
    adaptiveThresholdMask(luma, img.width, img.height, { method, blockSize: 35, offset: 0 }),
  );
}
const grow = { tolerance: 10, metric: "lab", connectivity: 8, maxRegions: 16 } as const;
await add("segment: region growing, whole image (Lab ΔE 10, ≤ 16 regions)", () =>
  growRegions(img, grow),
);
await add("segment: region growing from one seed (Lab ΔE 10)", () =>
  regionGrow(img, [{ x: img.width >> 1, y: img.height >> 3 }], grow),
);
console.table(rows.slice(firstSegmentation));
