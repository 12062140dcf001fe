import { describe, expect, test } from "bun:test";
import sharp from "sharp";
import { encodeGreyPng } from "../../src/core/formats/grey-png.ts";
import { checkImageStructure } from "../../src/core/formats/probe.ts";
import { zlibDeflate, zlibInflate } from "../../src/core/lib/deflate.ts";

describe("encodeGreyPng", () => {
  test("8-bit masks decode (by sharp) to exactly the samples, as one channel", async () => {
    const samples = Uint8Array.from({ length: 7 * 5 }, (_, i) => (i % 3 === 0 ? 255 : 0));
    const png = await encodeGreyPng(samples, 7, 5);
    expect(checkImageStructure("png", png)).toBeNull();
    const meta = await sharp(png).metadata();
    expect([meta.width, meta.height, meta.channels, meta.depth]).toEqual([7, 5, 1, "uchar"]);
    const data = await sharp(png).extractChannel(0).raw().toBuffer();
    expect(new Uint8Array(data)).toEqual(samples);
  });

  test("16-bit label maps keep every value", async () => {
    const samples = Uint16Array.from({ length: 300 }, (_, i) => i * 211);
    const png = await encodeGreyPng(samples, 20, 15);
    const meta = await sharp(png).metadata();
    expect([meta.width, meta.height, meta.channels, meta.depth]).toEqual([20, 15, 1, "ushort"]);
    const data = await sharp(png)
      .toColourspace("grey16")
      .extractChannel(0)
      .raw({ depth: "ushort" })
      .toBuffer();
    expect(new Uint16Array(data.buffer, data.byteOffset, 300)).toEqual(samples);
  });

  test("refuses a sample count that does not match the size; zlib round-trips", async () => {
    await expect(encodeGreyPng(new Uint8Array(5), 2, 2)).rejects.toThrow(
      "Expected 4 samples for a 2×2 image but received 5",
    );
    const bytes = Uint8Array.from({ length: 5000 }, (_, i) => i % 7);
    expect(await zlibInflate(await zlibDeflate(bytes))).toEqual(bytes);
  });
});
