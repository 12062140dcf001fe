import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { checkImageStructure, probeImageHeader } from "../../src/core/formats/probe.ts";
import { crc32 } from "../../src/core/lib/crc32.ts";
import { fixture, makePng, noise, pngsuite } from "../support/fixtures.ts";

describe("crc32", () => {
  test("matches known values and zlib's crc32 on every length around the 8-byte stride", () => {
    expect(crc32(new TextEncoder().encode("IEND"))).toBe(0xae426082);
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    const data = noise(4099);
    for (let n = 0; n < 40; n++)
      expect(crc32(data.subarray(0, n))).toBe(Bun.hash.crc32(data.subarray(0, n)));
    expect(crc32(data)).toBe(Bun.hash.crc32(data));
  });
});

describe("probeImageHeader", () => {
  test("reads format and size of JPEG, PNG, WebP (lossy and lossless) and AVIF headers", async () => {
    expect(probeImageHeader(await fixture("exif-orientation/Landscape_1.jpg"))).toEqual({
      kind: "ok",
      format: "jpeg",
      width: 1800,
      height: 1200,
      components: 3,
      precision: 8,
      sof: 0xc0,
    });
    expect(probeImageHeader(await pngsuite("basn0g01.png"))).toMatchObject({
      format: "png",
      width: 32,
      height: 32,
    });
    expect(probeImageHeader(await fixture("generated/landscape-240.webp"))).toMatchObject({
      format: "webp",
      width: 240,
      height: 160,
    });
    expect(probeImageHeader(await fixture("generated/landscape-120-lossless.webp"))).toMatchObject({
      format: "webp",
      width: 120,
      height: 80,
    });
  });

  test("AVIF: size from the ispe property, structure from the top-level boxes", async () => {
    const avif = await fixture("generated/landscape-300.avif");
    expect(probeImageHeader(avif)).toEqual({ kind: "ok", format: "avif", width: 300, height: 200 });
    expect(checkImageStructure("avif", avif)).toBeNull();
    expect(checkImageStructure("avif", avif.subarray(0, avif.length - 10))).toContain(
      "runs past the end",
    );
  });

  test("JPEG: the frame's component count (4 = CMYK, which the decoder cannot read)", async () => {
    const sharp = (await import("sharp")).default;
    const photo = await fixture("exif-orientation/Landscape_1.jpg");
    const grey = new Uint8Array(
      await sharp(photo).resize(32).toColourspace("b-w").jpeg().toBuffer(),
    );
    const cmyk = new Uint8Array(
      await sharp(photo).resize(32).toColourspace("cmyk").jpeg().toBuffer(),
    );
    expect(probeImageHeader(grey)).toMatchObject({ format: "jpeg", components: 1 });
    expect(probeImageHeader(cmyk)).toMatchObject({ format: "jpeg", components: 4 });
  });

  test("asks for more bytes until the header is complete, and never reads past what it needs", async () => {
    const png = await pngsuite("basn2c08.png");
    for (let n = 1; n < 33; n++)
      expect(probeImageHeader(png.subarray(0, n)).kind).toBe("need-more");
    expect(probeImageHeader(png.subarray(0, 33))).toMatchObject({ kind: "ok", width: 32 });
  });

  test("takes the size from the header alone: a 100 000 × 100 000 claim costs a few bytes", () => {
    const liar = makePng(1, 1, () => [0, 0, 0, 0], { claimWidth: 100_000, claimHeight: 100_000 });
    expect(probeImageHeader(liar.subarray(0, 33))).toMatchObject({
      width: 100_000,
      height: 100_000,
    });
  });

  test("refuses what is not an image, and headers that cannot be right", async () => {
    expect(probeImageHeader(new TextEncoder().encode("hello, this is text"))).toEqual({
      kind: "unsupported",
    });
    expect(probeImageHeader(new Uint8Array(0))).toEqual({ kind: "unsupported" });
    expect(probeImageHeader(await pngsuite("xhdn0g08.png")).kind).toBe("corrupt"); // IHDR CRC
    expect(probeImageHeader(await pngsuite("xc1n0g08.png")).kind).toBe("corrupt"); // colour type 1
    expect(probeImageHeader(await pngsuite("xd0n2c08.png")).kind).toBe("corrupt"); // bit depth 0
    expect(probeImageHeader(await pngsuite("xs1n0g01.png"))).toEqual({ kind: "unsupported" }); // signature
  });
});

describe("checkImageStructure", () => {
  test("accepts every valid PngSuite file", async () => {
    const valid = readdirSync(new URL("../fixtures/pngsuite/png/", import.meta.url)).filter(
      (f) => f.endsWith(".png") && !f.startsWith("x"),
    );
    expect(valid.length).toBeGreaterThan(150);
    for (const name of valid) {
      const bytes = await pngsuite(name);
      expect([name, probeImageHeader(bytes).kind]).toEqual([name, "ok"]);
      expect([name, checkImageStructure("png", bytes)]).toEqual([name, null]);
    }
  });

  test("finds truncation and broken chunks without decoding", async () => {
    const png = await pngsuite("basn6a08.png");
    expect(checkImageStructure("png", png.subarray(0, png.length - 12))).toContain("IEND");
    expect(checkImageStructure("png", png.subarray(0, 60))).toContain("cut off");
    expect(checkImageStructure("png", png.subarray(0, png.length - 20))).toContain(
      "runs past the end",
    );
    expect(checkImageStructure("png", await pngsuite("xcsn0g01.png"))).toContain("bad CRC");
    expect(checkImageStructure("png", await pngsuite("xdtn0g01.png"))).toContain("no IDAT");
    const jpeg = await fixture("exif-orientation/Landscape_1.jpg");
    expect(checkImageStructure("jpeg", jpeg)).toBeNull();
    expect(checkImageStructure("jpeg", jpeg.subarray(0, jpeg.length - 100))).toContain(
      "end-of-image",
    );
    const webp = await fixture("generated/landscape-240.webp");
    expect(checkImageStructure("webp", webp)).toBeNull();
    expect(checkImageStructure("webp", webp.subarray(0, webp.length - 1))).toContain("RIFF");
  });
});
