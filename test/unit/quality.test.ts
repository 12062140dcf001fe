import { describe, expect, test } from "bun:test";
import sharp from "sharp";
import { loadLocalWasm } from "../../src/adapters/bun/wasm.ts";
import { createCodecs } from "../../src/core/formats/codecs.ts";
import { runPipeline } from "../../src/core/pipeline/pipeline.ts";
import { PipelineSpecSchema } from "../../src/core/pipeline/pipeline-spec.ts";
import { fixture } from "../support/fixtures.ts";
import { psnr } from "../support/similarity.ts";

const codecs = createCodecs(loadLocalWasm);

const photo = await fixture("exif-orientation/Landscape_1.jpg");

describe("quality against sharp as an oracle", () => {
  test("lanczos3 resizes match sharp's at PSNR ≥ 36 dB", async () => {
    for (const [width, height] of [
      [800, 533],
      [300, 200],
      [1200, 800],
    ] as const) {
      const spec = PipelineSpecSchema.parse({
        operations: [{ op: "resize", width, height, fit: "fill", kernel: "lanczos3" }],
        format: "png",
      });
      const ours = await runPipeline(codecs, {
        bytes: photo,
        format: "jpeg",
        spec: { ...spec, format: "png" },
        maxPixels: 1e8,
      });
      const mine = await codecs.decode(ours.bytes, "png");
      // The same decoded pixels go into sharp, so only the resampling is compared.
      const source = await codecs.decode(photo, "jpeg");
      const theirs = await sharp(Buffer.from(source.data.buffer), {
        raw: { width: source.width, height: source.height, channels: 4 },
      })
        .resize(width, height, { fit: "fill", kernel: "lanczos3" })
        .raw()
        .toBuffer();
      const db = psnr(mine.data, new Uint8Array(theirs));
      expect([width, db >= 36]).toEqual([width, true]);
    }
  });

  test("JPEG q90 round trip keeps PSNR ≥ 38 dB", async () => {
    const source = await codecs.decode(photo, "jpeg");
    const encoded = await codecs.encode(source, { format: "jpeg", quality: 90 });
    const back = await codecs.decode(encoded, "jpeg");
    expect(psnr(source.data, back.data)).toBeGreaterThanOrEqual(38);
  });
});
