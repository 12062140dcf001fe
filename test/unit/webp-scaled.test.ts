import { describe, expect, test } from "bun:test";
import sharp from "sharp";
import { loadLocalWasm } from "../../src/adapters/bun/wasm.ts";
import { createCodecs } from "../../src/core/formats/codecs.ts";
import { instantiateWebpDecoder, WebpCodecError } from "../../src/core/formats/webp-scaled.ts";
import { runPipeline } from "../../src/core/pipeline/pipeline.ts";
import { PipelineSpecSchema } from "../../src/core/pipeline/pipeline-spec.ts";
import { fixture } from "../support/fixtures.ts";
import { psnr } from "../support/similarity.ts";

const webp = await instantiateWebpDecoder(await loadLocalWasm("webpDecode"));
const photo = await fixture("exif-orientation/Landscape_1.jpg");
const lossy = new Uint8Array(
  await sharp(photo).resize(1001, 667, { fit: "fill" }).webp({ quality: 90 }).toBuffer(),
);

describe("libwebp decoder", () => {
  test("at full size, pixel for pixel what sharp (libvips + libwebp) decodes", async () => {
    const ours = webp.decode(lossy);
    const theirs = await sharp(lossy).ensureAlpha().raw().toBuffer();
    expect([ours.width, ours.height]).toEqual([1001, 667]);
    expect(Buffer.compare(Buffer.from(ours.data), theirs)).toBe(0);
  });

  test("scaled while decoding: the size asked for, ≥ 36 dB against sharp's lanczos3", async () => {
    const small = webp.decode(lossy, { scaledTo: { width: 251, height: 167 } });
    expect([small.width, small.height]).toEqual([251, 167]);
    const theirs = await sharp(lossy)
      .resize(251, 167, { fit: "fill" })
      .ensureAlpha()
      .raw()
      .toBuffer();
    expect(psnr(small.data, theirs)).toBeGreaterThan(36);
  });

  test("corrupt data and animations are WebpCodecErrors, and the decoder lives on", async () => {
    const broken = lossy.slice();
    broken.fill(0x55, 40, 4000);
    expect(() => webp.decode(broken)).toThrow(WebpCodecError);
    expect(() => webp.decode(lossy.subarray(0, 20))).toThrow(WebpCodecError);
    expect(() => webp.decode(lossy, { maxPixels: 1000 })).toThrow("more pixels than allowed");
    expect(webp.decode(lossy).width).toBe(1001);
  });

  test("a thumbnail of a WebP is shrunk on load and still ≥ 36 dB against sharp", async () => {
    const codecs = createCodecs(loadLocalWasm);
    const spec = PipelineSpecSchema.parse({
      operations: [{ op: "resize", width: 200, height: 200, fit: "inside" }],
      format: "png",
    });
    const out = await runPipeline(codecs, {
      bytes: lossy,
      format: "webp",
      spec: { ...spec, format: "png" },
      maxPixels: 1e8,
    });
    const mine = await sharp(out.bytes).ensureAlpha().raw().toBuffer();
    const theirs = await sharp(lossy)
      .resize(200, 200, { fit: "inside" })
      .ensureAlpha()
      .raw()
      .toBuffer();
    expect([out.width, out.height]).toEqual([200, 133]);
    expect(psnr(mine, theirs)).toBeGreaterThan(36);
  });
});
