/**
 * Pictor's imaging pipeline beside sharp (libvips), one thread each, same inputs, one run.
 *
 *   npm run bench:imaging                 # 7 timed runs per case, 500-thumbnail leak check
 *   BENCH_RUNS=3 BENCH_LEAK=100 npm run bench:imaging
 *
 * Prints median ms, megapixels per second, Pictor/sharp ratio, Pictor's decode/process/encode
 * split, peak RSS, and whether RSS stays flat over many thumbnails (WASM memory only grows).
 */
import { readFileSync } from "node:fs";
import sharp from "sharp";
import { loadLocalWasm } from "../../src/adapters/bun/wasm.ts";
import { createWorkerPool } from "../../src/adapters/bun/worker-pool.ts";
import { createCodecs } from "../../src/core/formats/codecs.ts";
import { type PipelineJob, runPipeline } from "../../src/core/pipeline/pipeline.ts";
import {
  type PipelineSpecInput,
  PipelineSpecSchema,
} from "../../src/core/pipeline/pipeline-spec.ts";
import { processPipeline } from "../../src/platform/image-processor.ts";
import { createJsonLogger } from "../../src/platform/logger.ts";
import { fixture } from "../support/fixtures.ts";
import { psnr } from "../support/similarity.ts";
import { type Photo, realPhotos } from "./photos.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const PHOTO_RUNS = Number(process.env.BENCH_PHOTO_RUNS ?? 5);
const LEAK_RUNS = Number(process.env.BENCH_LEAK ?? 500);

sharp.concurrency(1);
sharp.cache(false);
const codecs = createCodecs(loadLocalWasm);

const rssMb = (field: "VmRSS" | "VmHWM") =>
  Number(
    new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? 0,
  ) / 1024;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function time(fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm-up: codec init, JIT
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn();
    runs.push(performance.now() - t);
    Bun.gc(true); // outside the timing: keep garbage from one case out of the next
  }
  return median(runs);
}

const job = (
  bytes: Uint8Array,
  format: PipelineJob["format"],
  spec: PipelineSpecInput,
): PipelineJob => {
  const parsed = PipelineSpecSchema.parse(spec);
  return {
    bytes,
    format,
    spec: { ...parsed, format: parsed.format as "jpeg" },
    maxPixels: 100_000_000,
  };
};

// Inputs: a 12 MP photo-like JPEG (the shipped photo, upscaled with detail kept) and that real
// photo as 1920×1080 PNG.
const photo = await fixture("exif-orientation/Landscape_1.jpg");
const jpeg12mp = new Uint8Array(
  await sharp(photo).resize(4000, 3000).jpeg({ quality: 90 }).toBuffer(),
);
const png1080 = new Uint8Array(await sharp(photo).resize(1920, 1080).png().toBuffer());

type Row = Record<string, string | number>;
const rows: Row[] = [];

async function compare(
  name: string,
  megapixels: number,
  pictor: PipelineJob | (() => Promise<unknown>),
  viaSharp: () => Promise<unknown>,
) {
  const stages: { decodeMs: number; processMs: number; encodeMs: number }[] = [];
  const run =
    typeof pictor === "function"
      ? pictor
      : async () => {
          stages.push((await runPipeline(codecs, pictor)).timings);
        };
  const p = await time(run);
  const s = await time(viaSharp);
  rows.push({
    case: name,
    "pictor ms": Number(p.toFixed(1)),
    "sharp ms": Number(s.toFixed(1)),
    ratio: Number((p / s).toFixed(2)),
    "pictor MP/s": Number((megapixels / (p / 1000)).toFixed(1)),
    "sharp MP/s": Number((megapixels / (s / 1000)).toFixed(1)),
    "pictor decode/process/encode ms (medians)": stages.length
      ? (["decodeMs", "processMs", "encodeMs"] as const)
          .map((k) => median(stages.map((t) => t[k])).toFixed(0))
          .join(" / ")
      : "-",
  });
}

await compare(
  "decode 4000×3000 JPEG",
  12,
  () => codecs.decode(jpeg12mp, "jpeg"),
  () => sharp(jpeg12mp).raw().toBuffer(),
);
const thumbnail = job(jpeg12mp, "jpeg", {
  operations: [{ op: "resize", width: 800, height: 600, fit: "inside" }],
  format: "jpeg",
  quality: 80,
});
await compare("thumbnail 4000×3000 JPEG → inside 800×600 → JPEG q80", 12, thumbnail, () =>
  sharp(jpeg12mp).resize(800, 600, { fit: "inside" }).jpeg({ quality: 80 }).toBuffer(),
);
await compare(
  "1920×1080 PNG → WebP q80",
  (1920 * 1080) / 1e6,
  job(png1080, "png", { format: "webp", quality: 80 }),
  () => sharp(png1080).webp({ quality: 80 }).toBuffer(),
);
await compare(
  "crop 1000×1000 from 4000×3000 JPEG → JPEG q80",
  12,
  job(jpeg12mp, "jpeg", {
    operations: [{ op: "crop", left: 1500, top: 1000, width: 1000, height: 1000 }],
    format: "jpeg",
    quality: 80,
  }),
  () =>
    sharp(jpeg12mp)
      .extract({ left: 1500, top: 1000, width: 1000, height: 1000 })
      .jpeg({ quality: 80 })
      .toBuffer(),
);

console.log(`\nPictor vs sharp, one thread each, median of ${RUNS} runs`);
console.table(rows);

// Real photos: each case runs Pictor and sharp alternately (so a busy moment of a shared machine
// falls on both), medians of PHOTO_RUNS. Every thumbnail's pixels are checked against sharp's
// lanczos3 at ≥ 36 dB PSNR, the bar the unit tests hold the resizer to.
const photoRows: Row[] = [];
async function interleaved(pictor: () => Promise<unknown>, viaSharp: () => Promise<unknown>) {
  await pictor();
  await viaSharp();
  const p: number[] = [];
  const s: number[] = [];
  for (let i = 0; i < PHOTO_RUNS; i++) {
    for (const [fn, out] of [
      [pictor, p],
      [viaSharp, s],
    ] as const) {
      const t = performance.now();
      await fn();
      out.push(performance.now() - t);
      Bun.gc(true);
    }
  }
  return { p: median(p), s: median(s) };
}

async function thumbnailPsnr(photo: Photo): Promise<number> {
  const out = await runPipeline(
    codecs,
    job(photo.bytes, photo.format, {
      operations: [{ op: "resize", width: 800, height: 800, fit: "inside" }],
      format: "png",
    }),
  );
  const mine = await sharp(out.bytes).ensureAlpha().raw().toBuffer();
  const theirs = await sharp(photo.bytes)
    .resize(800, 800, { fit: "inside", kernel: "lanczos3" })
    .ensureAlpha()
    .raw()
    .toBuffer();
  return psnr(mine, theirs);
}

for (const photo of await realPhotos()) {
  const mp = (photo.width * photo.height) / 1e6;
  const db = await thumbnailPsnr(photo);
  const left = Math.floor((photo.width - 1000) / 2);
  const top = Math.floor((photo.height - 1000) / 2);
  const cases: [string, PipelineSpecInput, () => Promise<unknown>][] = [
    [
      "→ inside 800² → JPEG q80",
      { operations: [{ op: "resize", width: 800, height: 800, fit: "inside" }], format: "jpeg" },
      () => sharp(photo.bytes).resize(800, 800, { fit: "inside" }).jpeg({ quality: 80 }).toBuffer(),
    ],
    [
      "→ inside 800² → WebP q80",
      { operations: [{ op: "resize", width: 800, height: 800, fit: "inside" }], format: "webp" },
      () => sharp(photo.bytes).resize(800, 800, { fit: "inside" }).webp({ quality: 80 }).toBuffer(),
    ],
    photo.format === "jpeg"
      ? [
          "→ WebP q80 (full size)",
          { format: "webp" },
          () => sharp(photo.bytes).webp({ quality: 80 }).toBuffer(),
        ]
      : [
          "→ JPEG q80 (full size)",
          { format: "jpeg" },
          () => sharp(photo.bytes).jpeg({ quality: 80 }).toBuffer(),
        ],
    [
      "crop 1000² (centre) → JPEG q80",
      { operations: [{ op: "crop", left, top, width: 1000, height: 1000 }], format: "jpeg" },
      () =>
        sharp(photo.bytes)
          .extract({ left, top, width: 1000, height: 1000 })
          .jpeg({ quality: 80 })
          .toBuffer(),
    ],
  ];
  for (const [what, spec, viaSharp] of cases) {
    const pictorJob = job(photo.bytes, photo.format, spec);
    const { p, s } = await interleaved(() => runPipeline(codecs, pictorJob), viaSharp);
    photoRows.push({
      photo: photo.name,
      case: what,
      "pictor ms": Number(p.toFixed(0)),
      "sharp ms": Number(s.toFixed(0)),
      ratio: Number((p / s).toFixed(2)),
      "≤ 1.5×": p / s <= 1.5 ? "yes" : "NO",
      "thumbnail PSNR vs sharp (dB)": what.includes("800²")
        ? `${db.toFixed(1)}${db >= 36 ? "" : " (< 36!)"}`
        : "-",
      MP: Number(mp.toFixed(1)),
    });
  }
}
console.log(
  `\nReal photos: Pictor vs sharp, one thread each, alternating, median of ${PHOTO_RUNS}`,
);
console.table(photoRows);

// The leak check runs where production runs pipelines: in a pool worker (whose memory is this
// process's). WASM memory only grows (squoosh#1065) and rasters live outside the JS heap, so RSS
// after many thumbnails should stay near its level after the first few dozen.
const pool = createWorkerPool({
  size: 1,
  queueLimit: 1,
  timeoutMs: 60_000,
  logger: createJsonLogger("silent"),
});
let after50 = 0;
for (let i = 1; i <= LEAK_RUNS; i++) {
  await processPipeline(pool, thumbnail);
  if (i === Math.min(50, LEAK_RUNS)) after50 = rssMb("VmRSS");
}
const afterAll = rssMb("VmRSS");
await pool.close();
const growth = ((afterAll - after50) / after50) * 100;
console.log(
  `RSS after 50 thumbnails ${after50.toFixed(0)} MB, after ${LEAK_RUNS}: ${afterAll.toFixed(0)} MB ` +
    `(${growth >= 0 ? "+" : ""}${growth.toFixed(1)} %, ${Math.abs(growth) <= 15 ? "within" : "OUTSIDE"} 15 %); ` +
    `peak RSS ${rssMb("VmHWM").toFixed(0)} MB`,
);
