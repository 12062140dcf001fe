/**
 * The two JPEG encoders side by side: libjpeg-turbo (the default) and MozJPEG (`mozjpeg: true`),
 * through the whole pipeline on the inputs of imaging.bench.ts, one thread.
 *
 *   bun test/bench/jpeg-encoders.bench.ts
 *   BENCH_RUNS=3 bun test/bench/jpeg-encoders.bench.ts
 *
 * Prints, per case and encoder: the output's size, median total and encode ms, and the PSNR of
 * the decoded output against the pixels that went into the encoder.
 */
import sharp from "sharp";
import { loadLocalWasm } from "../../src/adapters/bun/wasm.ts";
import { createCodecs } from "../../src/core/formats/codecs.ts";
import { type PipelineJob, runPipeline } from "../../src/core/pipeline/pipeline.ts";
import {
  type PipelineSpecInput,
  PipelineSpecSchema,
} from "../../src/core/pipeline/pipeline-spec.ts";
import { fixture } from "../support/fixtures.ts";
import { psnr } from "../support/similarity.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
sharp.concurrency(1);
const codecs = createCodecs(loadLocalWasm);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const job = (bytes: Uint8Array, format: PipelineJob["format"], spec: PipelineSpecInput) => {
  const parsed = PipelineSpecSchema.parse(spec);
  return {
    bytes,
    format,
    spec: { ...parsed, format: parsed.format as "jpeg" },
    maxPixels: 100_000_000,
  };
};

const photo = await fixture("exif-orientation/Landscape_1.jpg");
const jpeg12mp = new Uint8Array(
  await sharp(photo).resize(4000, 3000).jpeg({ quality: 90 }).toBuffer(),
);
const png1080 = new Uint8Array(await sharp(photo).resize(1920, 1080).png().toBuffer());

const cases: [string, Uint8Array, PipelineJob["format"], PipelineSpecInput][] = [
  [
    "thumbnail 4000×3000 JPEG → inside 800×600 → JPEG q80",
    jpeg12mp,
    "jpeg",
    { operations: [{ op: "resize", width: 800, height: 600, fit: "inside" }], quality: 80 },
  ],
  ["photo 1920×1080 PNG → JPEG q80", png1080, "png", { quality: 80 }],
];

const rows: Record<string, string | number>[] = [];
for (const [name, bytes, format, spec] of cases) {
  // The pixels the encoder is given: the same pipeline, written losslessly.
  const reference = await runPipeline(codecs, job(bytes, format, { ...spec, format: "png" }));
  const pixels = await codecs.decode(reference.bytes, "png");
  for (const mozjpeg of [false, true]) {
    const j = job(bytes, format, { ...spec, format: "jpeg", mozjpeg });
    let out = await runPipeline(codecs, j); // warm-up: codec init, JIT
    const totals: number[] = [];
    const encodes: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      out = await runPipeline(codecs, j);
      totals.push(performance.now() - t);
      encodes.push(out.timings.encodeMs);
      Bun.gc(true);
    }
    const decoded = await codecs.decode(out.bytes, "jpeg");
    rows.push({
      case: name,
      encoder: mozjpeg ? "MozJPEG" : "libjpeg-turbo",
      bytes: out.bytes.length,
      "total ms": Number(median(totals).toFixed(1)),
      "encode ms": Number(median(encodes).toFixed(1)),
      "PSNR dB": Number(psnr(pixels.data, decoded.data).toFixed(2)),
    });
  }
}
console.table(rows);
