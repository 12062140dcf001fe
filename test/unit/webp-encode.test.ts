import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import sharp from "sharp";
import { loadLocalWasm } from "../../src/adapters/bun/wasm.ts";
import { createCodecs } from "../../src/core/formats/codecs.ts";
import { instantiateWebpEncoder } from "../../src/core/formats/webp-encode.ts";
import { WebpCodecError } from "../../src/core/formats/webp-scaled.ts";
import { fixture } from "../support/fixtures.ts";
import { psnr } from "../support/similarity.ts";

const webp = await instantiateWebpEncoder(await loadLocalWasm("webpEncode"));
const codecs = createCodecs(loadLocalWasm);
// 1001 wide: macroblocks that overhang the right edge are encoded too.
const photo = await codecs.decode(await fixture("generated/landscape-1001-422.jpg"), "jpeg");
const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex").slice(0, 16);

describe("libwebp encoder (wasm/webp-encode)", () => {
  test("lossy files are byte for byte what jSquash's build of libwebp wrote (its SIMD transform changes nothing)", () => {
    // SHA-256 (first 16 hex digits) of @jsquash/webp 1.5.0's files for the same pixels.
    expect([
      sha(webp.encode(photo, { quality: 30 })),
      sha(webp.encode(photo, { quality: 80 })),
    ]).toEqual(["518d0922734033e7", "854919f3193b83b5"]);
  });

  test("sharp reads the file as the photo, ≥ 38 dB at q90", async () => {
    const file = webp.encode(photo, { quality: 90 });
    const { data, info } = await sharp(file)
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, file.length < photo.data.length / 10]).toEqual([
      1001,
      667,
      true,
    ]);
    expect(psnr(data, photo.data)).toBeGreaterThanOrEqual(38);
  });

  test("alpha is kept: lossy with its alpha plane lossless, lossless with the RGB under transparent pixels", async () => {
    const img = { ...photo, data: photo.data.slice() };
    for (let i = 3; i < img.data.length; i += 4) img.data[i] = (i >> 2) % 3 === 0 ? 0 : 160;
    const lossy = await codecs.decode(webp.encode(img, { quality: 80 }), "webp");
    const alpha = (d: Uint8ClampedArray) => d.filter((_, i) => i % 4 === 3);
    expect(alpha(lossy.data)).toEqual(alpha(img.data));
    const lossless = await codecs.decode(
      webp.encode(img, { quality: 50, lossless: true, exact: true }),
      "webp",
    );
    expect(lossless.data).toEqual(img.data);
  });

  test("libwebp's refusals are WebpCodecErrors naming them; a short raster is a RangeError", () => {
    const wide = { width: 16384, height: 1, data: new Uint8ClampedArray(16384 * 4) };
    expect(() => webp.encode(wide, { quality: 80 })).toThrow(
      new WebpCodecError("libwebp could not encode: a side over 16383 pixels"),
    );
    const short = { width: 10, height: 10, data: new Uint8ClampedArray(396) };
    expect(() => webp.encode(short, { quality: 80 })).toThrow(RangeError);
    expect(webp.encode(photo, { quality: 30 }).length).toBeGreaterThan(0);
  });

  test("repeated encodes leave the wasm memory as it was", () => {
    for (let i = 0; i < 3; i++) webp.encode(photo, { quality: 80 });
    const settled = webp.memoryBytes();
    for (let i = 0; i < 10; i++) webp.encode(photo, { quality: 40 + i * 5, lossless: i % 3 === 0 });
    expect(webp.memoryBytes()).toBe(settled);
  });
});
