import { describe, expect, test } from "bun:test";
import { loadLocalWasm } from "../../src/adapters/bun/wasm.ts";
import { av1MaxFrameSize, itemData, readAvifMeta } from "../../src/core/formats/avif.ts";
import { createCodecs, ImageDataError } from "../../src/core/formats/codecs.ts";
import { checkDecodable, pngDataMeter } from "../../src/core/formats/decode-limits.ts";
import { probeImageHeader } from "../../src/core/formats/probe.ts";
import { checkPlannedSizes, PipelineError } from "../../src/core/pipeline/pipeline.ts";
import { fixture, makePng, pngsuite } from "../support/fixtures.ts";
import {
  avifParts,
  box,
  buildAvif,
  buildGridAvif,
  inflateBombPng,
  ispe,
  manyScansJpeg,
} from "../support/hostile-images.ts";

const parts = await avifParts();
const codecs = createCodecs(loadLocalWasm);

describe("AVIF probe: the primary item's size", () => {
  test("the fixture: one item, its ispe, its AV1 sequence header", async () => {
    const avif = await fixture("generated/landscape-300.avif");
    const meta = readAvifMeta(avif);
    expect(meta).toMatchObject({
      kind: "ok",
      primary: { id: 1, type: "av01", width: 300, height: 200 },
    });
    if (meta.kind !== "ok") return;
    expect(av1MaxFrameSize(itemData(avif, meta.primary) as Uint8Array)).toEqual({
      width: 300,
      height: 200,
    });
    // Rebuilt from its parts, the file still decodes: the builder makes what decoders read.
    const rebuilt = buildAvif(parts, {
      properties: [parts.av1C, ispe(300, 200), parts.pixi],
      associations: [[1, [1, 2, 3]]],
    });
    expect((await codecs.decode(rebuilt, "avif")).width).toBe(300);
  });

  test("an ispe of another item, placed first, is not the image's size", () => {
    const avif = buildAvif(parts, {
      properties: [ispe(1, 1), parts.av1C, ispe(300, 200), parts.pixi],
      associations: [
        [2, [1]],
        [1, [2, 3, 4]],
      ],
    });
    expect(probeImageHeader(avif)).toEqual({ kind: "ok", format: "avif", width: 300, height: 200 });
  });

  test("pitm names the primary item; ipma version 1 has 32-bit item ids", () => {
    const avif = buildAvif(parts, {
      properties: [parts.av1C, ispe(300, 200), ispe(640, 480), parts.pixi],
      associations: [
        [1, [1, 2, 4]],
        [7, [3]],
      ],
      pitm: 7,
      ipmaVersion: 1,
    });
    expect(probeImageHeader(avif)).toMatchObject({ width: 640, height: 480 });
  });

  test("irot is not applied by the decoder: the size served is ispe's", async () => {
    const rotated = buildAvif(parts, {
      properties: [parts.av1C, ispe(300, 200), parts.pixi, box("irot", new Uint8Array([1]))],
      associations: [[1, [1, 2, 3, 4]]],
    });
    expect(probeImageHeader(rotated)).toMatchObject({ width: 300, height: 200 });
    expect(await codecs.decode(rotated, "avif")).toMatchObject({ width: 300, height: 200 });
  });

  test("a primary item without ispe is refused, in words", () => {
    const avif = buildAvif(parts, {
      properties: [parts.av1C, ispe(300, 200), parts.pixi],
      associations: [
        [1, [1, 3]],
        [2, [2]],
      ],
    });
    expect(probeImageHeader(avif)).toEqual({
      kind: "corrupt",
      reason: "AVIF's primary item has no image size (ispe)",
    });
  });

  test("asks for more bytes until the meta box is whole", () => {
    const avif = buildAvif(parts, {
      properties: [parts.av1C, ispe(300, 200)],
      associations: [[1, [1, 2]]],
    });
    expect(probeImageHeader(avif.subarray(0, 100))).toEqual({ kind: "need-more" });
  });
});

describe("checkDecodable: sizes from the bitstream, work bounded by them", () => {
  test("an AVIF whose ispe says 1×1 but whose AV1 data is 300×200 is refused before decoding", async () => {
    const avif = buildAvif(parts, {
      properties: [parts.av1C, ispe(1, 1), parts.pixi],
      associations: [[1, [1, 2, 3]]],
    });
    expect(probeImageHeader(avif)).toMatchObject({ width: 1, height: 1 });
    await expect(checkDecodable(avif, "avif", 50e6)).rejects.toThrow(
      new ImageDataError("AVIF declares 1×1 but its AV1 data is 300×200"),
    );
  });

  test("a grid: its tiles' AV1 data must cover the declared size with less than a tile to spare", async () => {
    const honest = buildGridAvif(parts, {
      columns: 2,
      rows: 1,
      output: { width: 600, height: 200 },
    });
    expect(probeImageHeader(honest)).toMatchObject({ width: 600, height: 200 });
    expect(await codecs.decode(honest, "avif")).toMatchObject({ width: 600, height: 200 });
    const lying = buildGridAvif(parts, { columns: 2, rows: 1, output: { width: 2, height: 1 } });
    await expect(checkDecodable(lying, "avif", 50e6)).rejects.toThrow(
      "AVIF declares 2×1 but its AV1 data is 600×200",
    );
  });

  test("MAX_PIXELS is checked from the header, before any decoder runs", async () => {
    const avif = await fixture("generated/landscape-300.avif");
    await expect(codecs.decode(avif, "avif", { maxPixels: 59_999 })).rejects.toThrow(
      "Image is 300×200 = 60000 pixels; the limit (MAX_PIXELS) is 59999",
    );
  });

  test("a 1×1 PNG inflating to 24 GB is refused at once from its compressed size", async () => {
    const bomb = inflateBombPng(24e9);
    const started = performance.now();
    await expect(codecs.decode(bomb, "png")).rejects.toThrow(
      /more than any encoding of a 1×1 image/,
    );
    expect(performance.now() - started).toBeLessThan(1000);
  });

  test("a PNG whose honest-sized stream inflates past the image stops at its declared size", async () => {
    // 1 GiB of zeros behind a 1000×1000 image: the compressed size is plausible for it.
    const bomb = inflateBombPng(2 ** 30);
    const header = new DataView(bomb.buffer, 16, 8);
    header.setUint32(0, 1000);
    header.setUint32(4, 1000);
    const crc = Bun.hash.crc32(bomb.subarray(12, 29));
    new DataView(bomb.buffer).setUint32(29, crc);
    const started = performance.now();
    await expect(codecs.decode(bomb, "png")).rejects.toThrow(
      "PNG image data inflates to more than the 4001000 bytes a 1000×1000 image holds",
    );
    expect(performance.now() - started).toBeLessThan(1000);
  });

  test("a progressive JPEG of 20 000 scans is refused after a few, in words", async () => {
    const jpeg = await manyScansJpeg(20_000);
    const started = performance.now();
    await expect(codecs.decode(jpeg, "jpeg", { scaleDenom: 8 })).rejects.toThrow(
      "JPEG's progressive scans pass over the image more than 16 times; such files cannot be decoded",
    );
    expect(performance.now() - started).toBeLessThan(1000);
    // The same image with libjpeg's own progression decodes.
    expect((await codecs.decode(await manyScansJpeg(10), "jpeg")).width).toBe(2048);
  });
});

describe("pngDataMeter: image data measured as an upload arrives", () => {
  const feed = (bytes: Uint8Array, step: number) => {
    const meter = pngDataMeter(bytes.subarray(0, 33));
    for (let at = 0; at < bytes.length; at += step) meter.push(bytes.subarray(at, at + step));
  };

  test("honest files pass, whatever the pieces (chunk headers split across them)", async () => {
    for (const png of [
      await pngsuite("basn6a08.png"),
      await pngsuite("basi0g01.png"),
      makePng(50, 40, (x, y) => [x, y, x ^ y, 255], { level: 0 }),
    ]) {
      for (const step of [1, 3, 7, 8, 64, 1 << 20]) expect(() => feed(png, step)).not.toThrow();
    }
  });

  test("the 24 GB bomb is refused at its IDAT header, after 41 bytes", () => {
    const bomb = inflateBombPng(24e9);
    const meter = pngDataMeter(bomb.subarray(0, 33));
    meter.push(bomb.subarray(0, 40));
    expect(() => meter.push(bomb.subarray(40, 41))).toThrow(
      /more than any encoding of a 1×1 image/,
    );
  });
});

describe("checkPlannedSizes: every step's output checked before decoding", () => {
  const background = [0, 0, 0, 0] as [number, number, number, number];
  test("a rotation whose canvas passes MAX_PIXELS names the operation", () => {
    expect(() =>
      checkPlannedSizes(
        8000,
        6000,
        [{ op: "flip" }, { op: "rotate", angle: 45, background }],
        50e6,
      ),
    ).toThrow(
      new PipelineError(
        "The rotated image would be 9900×9900 = 98010000 pixels; the limit (MAX_PIXELS) is 50000000",
        "operations.1",
      ),
    );
  });

  test("a crop outside the image is refused from sizes alone; sizes follow each step", () => {
    expect(() =>
      checkPlannedSizes(
        100,
        50,
        [
          { op: "rotate", angle: 90, background },
          { op: "crop", left: 0, top: 60, width: 10, height: 10 },
        ],
        50e6,
      ),
    ).not.toThrow();
    expect(() =>
      checkPlannedSizes(100, 50, [{ op: "crop", left: 0, top: 60, width: 10, height: 10 }], 50e6),
    ).toThrow("Expected the crop box (left 0, top 60, 10×10) to lie inside the 100×50 image");
  });
});
