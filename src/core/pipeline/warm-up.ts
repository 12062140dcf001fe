import type { Codecs } from "../formats/codecs.ts";
import type { RgbaImage } from "../imaging/raster.ts";
import { runPipeline } from "./pipeline.ts";
import { PipelineSpecSchema } from "./pipeline-spec.ts";

// A photo-like test card: smooth gradients with a little hash noise, so the encoders and the
// entropy decoders take their usual paths (a flat image would not exercise them).
function testCard(width: number, height: number): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0, o = 0; y < height; y++) {
    for (let x = 0; x < width; x++, o += 4) {
      const noise = ((x * 73856093) ^ (y * 19349663)) & 15;
      data[o] = (x * 255) / width + noise;
      data[o + 1] = (y * 255) / height + noise;
      data[o + 2] = 128 + 100 * Math.sin((x + y) / 40) + noise;
      data[o + 3] = 255;
    }
  }
  return { data, width, height };
}

/**
 * Runs the renders most requests make (JPEG, WebP and PNG sources shrunk to thumbnail sizes,
 * encoded as JPEG and WebP) on synthetic images, so that the engine has compiled their
 * JavaScript and tiered up their WebAssembly before the first request: measured, the first
 * render of a 9 MP JPEG after the codecs were compiled took 116 ms against 67 ms for the next
 * ones. The JPEG is the largest (its reduced IDCTs and Huffman decoding are most of a render);
 * the others are small, their encoders being slow. Takes about a second per worker.
 *
 * @example
 * await codecs.warm();
 * await warmUpPipelines(codecs);
 */
export async function warmUpPipelines(codecs: Codecs): Promise<void> {
  const photo = testCard(1024, 768);
  const small = testCard(256, 192);
  const jpeg = await codecs.encode(photo, { format: "jpeg", quality: 85 });
  const render = (
    format: "jpeg" | "webp" | "png",
    bytes: Uint8Array,
    width: number,
    output: "jpeg" | "webp",
  ) =>
    runPipeline(codecs, {
      bytes,
      format,
      maxPixels: photo.width * photo.height,
      spec: {
        ...PipelineSpecSchema.parse({ operations: [{ op: "resize", width }], quality: 80 }),
        format: output,
      },
    });
  // The JPEG twice over, decoded at 1/8, 1/4, 1/2 and full size (shrink-on-load: one IDCT
  // each); the other sources once, small: their code compiled, their first calls made.
  for (let round = 0; round < 2; round++) {
    for (const width of [100, 200, 300]) await render("jpeg", jpeg, width + round, "jpeg");
    await render("jpeg", jpeg, 500 + round, "webp");
  }
  await render("webp", await codecs.encode(small, { format: "webp", quality: 75 }), 100, "jpeg");
  await render("png", await codecs.encode(small, { format: "png" }), 100, "jpeg");
}
