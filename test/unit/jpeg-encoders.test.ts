import { describe, expect, test } from "bun:test";
import sharp from "sharp";
import { loadLocalWasm } from "../../src/adapters/bun/wasm.ts";
import { createCodecs } from "../../src/core/formats/codecs.ts";
import { hasExif, readExifBlock, readExifOrientation } from "../../src/core/formats/exif.ts";
import type { RgbaImage } from "../../src/core/imaging/raster.ts";
import { runPipeline } from "../../src/core/pipeline/pipeline.ts";
import { PipelineSpecSchema } from "../../src/core/pipeline/pipeline-spec.ts";
import { fixture } from "../support/fixtures.ts";
import { psnr } from "../support/similarity.ts";

// The two JPEG encoders: libjpeg-turbo (the default, fast) and MozJPEG (`mozjpeg: true`, small).
const codecs = createCodecs(loadLocalWasm);
const ENCODERS = [false, true] as const;

/** Decoded by sharp (libvips' libjpeg-turbo): an independent reader of what was written. */
async function decodeWithSharp(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await sharp(bytes).ensureAlpha().raw().toBuffer());
}

const landscape = (n: number) => fixture(`exif-orientation/Landscape_${n}.jpg`);

// A 1920×1080 photo: the shipped 1800×1200 one resampled, so that its 8×8 blocks no longer line
// up with those of its own JPEG (re-encoding on the old grid flatters every encoder alike).
const photo: RgbaImage = {
  data: new Uint8ClampedArray(
    await sharp(await landscape(1))
      .resize(1920, 1080, { fit: "fill" })
      .ensureAlpha()
      .raw()
      .toBuffer(),
  ),
  width: 1920,
  height: 1080,
};

describe("JPEG encoders: libjpeg-turbo (default) and MozJPEG (mozjpeg: true)", () => {
  test("both write baseline 4:2:0 JPEGs that sharp reads back at PSNR ≥ 38 dB at q90", async () => {
    for (const mozjpeg of ENCODERS) {
      const bytes = await codecs.encode(photo, { format: "jpeg", quality: 90, mozjpeg });
      const meta = await sharp(bytes).metadata();
      expect([
        mozjpeg,
        meta.format,
        meta.width,
        meta.height,
        meta.isProgressive,
        meta.chromaSubsampling,
      ]).toEqual([mozjpeg, "jpeg", 1920, 1080, false, "4:2:0"]);
      // Measured: 40.9 dB (libjpeg-turbo), 39.9 dB (MozJPEG).
      const db = psnr(photo.data, await decodeWithSharp(bytes));
      expect([mozjpeg, db >= 38]).toEqual([mozjpeg, true]);
    }
  });

  test("MozJPEG's file is at least 10 % smaller at the same quality, for about 1 dB of PSNR", async () => {
    // Measured ratios 0.73 (q50), 0.81 (q80), 0.84 (q90); PSNR 0.9–1.1 dB lower: its tables
    // (Robidoux's) and trellis quantisation spend bits where they are seen rather than measured.
    for (const quality of [50, 80, 90]) {
      const fast = await codecs.encode(photo, { format: "jpeg", quality });
      const small = await codecs.encode(photo, { format: "jpeg", quality, mozjpeg: true });
      expect([quality, small.length < 0.9 * fast.length]).toEqual([quality, true]);
      const lost =
        psnr(photo.data, await decodeWithSharp(fast)) -
        psnr(photo.data, await decodeWithSharp(small));
      expect([quality, lost > 0 && lost < 1.5]).toEqual([quality, true]);
    }
  });

  test("progressive and 4:4:4 reach both encoders", async () => {
    const small: RgbaImage = { ...photo, data: photo.data.subarray(0, 1920 * 64 * 4), height: 64 };
    for (const mozjpeg of ENCODERS) {
      const bytes = await codecs.encode(small, {
        format: "jpeg",
        quality: 80,
        mozjpeg,
        progressive: true,
        chromaSubsampling: "4:4:4",
      });
      const meta = await sharp(bytes).metadata();
      expect([mozjpeg, meta.isProgressive, meta.chromaSubsampling]).toEqual([
        mozjpeg,
        true,
        "4:4:4",
      ]);
    }
  });

  test("keepMetadata carries the EXIF block through both encoders, orientation reset", async () => {
    const source = await landscape(6);
    const sourceExif = readExifBlock(source, "jpeg");
    expect(sourceExif).toBeDefined();
    for (const mozjpeg of ENCODERS) {
      const spec = PipelineSpecSchema.parse({
        operations: [{ op: "resize", width: 300 }],
        format: "jpeg",
        keepMetadata: true,
        mozjpeg,
      });
      const out = await runPipeline(codecs, {
        bytes: source,
        format: "jpeg",
        spec: { ...spec, format: "jpeg" },
        maxPixels: 1e8,
      });
      expect([mozjpeg, hasExif(out.bytes, "jpeg"), readExifOrientation(out.bytes, "jpeg")]).toEqual(
        [mozjpeg, true, 1],
      );
      expect(readExifBlock(out.bytes, "jpeg")?.length).toBe(sourceExif?.length);
      const meta = await sharp(out.bytes).metadata();
      expect([mozjpeg, meta.width, meta.height, meta.orientation ?? 1]).toEqual([
        mozjpeg,
        300,
        200,
        1,
      ]);
      expect(meta.exif).toBeDefined();
    }
  });

  test("the pipeline picks the encoder from the spec: mozjpeg changes the bytes, not the pixels' size", async () => {
    const run = async (mozjpeg?: boolean) => {
      const spec = PipelineSpecSchema.parse({
        operations: [{ op: "resize", width: 600 }],
        format: "jpeg",
        quality: 80,
        mozjpeg,
      });
      return runPipeline(codecs, {
        bytes: await landscape(1),
        format: "jpeg",
        spec: { ...spec, format: "jpeg" },
        maxPixels: 1e8,
      });
    };
    const [absent, off, on] = [await run(), await run(false), await run(true)];
    expect(off.bytes).toEqual(absent.bytes);
    expect([on.width, on.height]).toEqual([600, 400]);
    expect(on.bytes.length).toBeLessThan(0.9 * off.bytes.length);
  });

  test("mozjpeg must be a boolean, and says so like sharp", () => {
    for (const [value, message] of [
      ["yes", 'Expected true or false for mozjpeg but received "yes"'],
      [1, "Expected true or false for mozjpeg but received 1"],
      [null, "Expected true or false for mozjpeg but received null"],
    ] as const) {
      const result = PipelineSpecSchema.safeParse({ format: "jpeg", mozjpeg: value });
      expect(result.success).toBe(false);
      expect(result.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([
        ["mozjpeg", message],
      ]);
    }
    expect(PipelineSpecSchema.parse({ mozjpeg: true }).mozjpeg).toBe(true);
    expect(PipelineSpecSchema.parse({}).mozjpeg).toBeUndefined();
  });
});
