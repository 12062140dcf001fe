import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { constants, inflateSync } from "node:zlib";
import jsquashResize, { initResize } from "@jsquash/resize";
import sharp from "sharp";
import { loadLocalWasm, loadProjectWasm } from "../../src/adapters/bun/wasm.ts";
import {
  createCodecs,
  type DecodableFormat,
  UnsupportedImageError,
} from "../../src/core/formats/codecs.ts";
import { cropRgba } from "../../src/core/imaging/kernels.ts";
import { fixture, makePng, pngsuite } from "../support/fixtures.ts";
import { psnr } from "../support/similarity.ts";

const codecs = createCodecs(loadLocalWasm);
const suiteDir = new URL("../fixtures/pngsuite/", import.meta.url);
const valid = readdirSync(new URL("png/", suiteDir)).filter(
  (f) => f.endsWith(".png") && !f.startsWith("x"),
);

async function expectedPixels(name: string): Promise<number[] | null> {
  const base = name.replace(/\.png$/, "");
  for (const candidate of [`${base}_to8.json`, `${base}.json`]) {
    const file = Bun.file(new URL(`json/${candidate}`, suiteDir));
    if (await file.exists()) {
      const values = (await file.json()) as number[];
      // A 16-bit file without a _to8 reference: its values ÷ 257, rounded.
      return candidate === `${base}.json` && /16\.png$/.test(name)
        ? values.map((v) => Math.round(v / 257))
        : values;
    }
  }
  return null;
}

describe("PNG decoding against PngSuite", () => {
  test("every valid file decodes to the reference RGBA, within one level", async () => {
    let compared = 0;
    const off: string[] = [];
    for (const name of valid) {
      const expected = await expectedPixels(name);
      if (!expected) continue;
      const img = await codecs.decode(await pngsuite(name), "png");
      expect([name, img.data.length]).toEqual([name, expected.length]);
      let worst = 0;
      for (let i = 0; i < expected.length; i++) {
        worst = Math.max(worst, Math.abs((img.data[i] as number) - (expected[i] as number)));
      }
      if (worst > 1) off.push(`${name} differs by ${worst} levels`);
      compared++;
    }
    expect(off).toEqual([]);
    expect(compared).toBeGreaterThan(150);
  });

  test("8-bit RGBA scanlines under the Sub, Average and Paeth filters decode exactly as sharp decodes them", async () => {
    const photo = await fixture("exif-orientation/Landscape_1.jpg");
    const png = await sharp(photo)
      .resize(640)
      .ensureAlpha(0.7)
      .png({ adaptiveFiltering: true, compressionLevel: 6 })
      .toBuffer();
    // The filter type of each scanline, read off the inflated image data.
    const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
    const idat: Buffer[] = [];
    for (let at = 8; at < png.length; at += 12 + view.getUint32(at)) {
      if (png.toString("latin1", at + 4, at + 8) === "IDAT") {
        idat.push(png.subarray(at + 8, at + 8 + view.getUint32(at)));
      }
    }
    const raw = inflateSync(Buffer.concat(idat));
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    const types = new Set<number>();
    for (let y = 0; y < info.height; y++) types.add(raw[y * (info.width * 4 + 1)] as number);
    // Sub, Average and Paeth: the filters whose 4-byte pixels wasm/png/ unfilters in SIMD.
    expect([1, 3, 4].filter((t) => types.has(t))).toEqual([1, 3, 4]);
    const img = await codecs.decode(new Uint8Array(png), "png");
    expect(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length).equals(data)).toBe(
      true,
    );
  });

  test("the image data inflates whatever zlib made of it: every level and strategy, windows of 512 B to 32 KiB, IDAT chunks of 1 byte up", async () => {
    const strategies = [
      constants.Z_DEFAULT_STRATEGY,
      constants.Z_FILTERED,
      constants.Z_HUFFMAN_ONLY,
      constants.Z_RLE,
      constants.Z_FIXED,
    ];
    // Pixels that give the inflater long and short matches, near and far, runs and literals.
    const patterns: ((x: number, y: number) => [number, number, number, number])[] = [
      (x, y) => [(x * 7 + y * 3) & 255, (x >> 3) & 255, y & 255, 255],
      (x, y) => (((x >> 2) ^ (y >> 1)) & 1 ? [200, 10, 10, 255] : [x % 5, 0, 40 * (y % 3), 128]),
      (x, y) => [(x * x + y * 31) % 251, (x * 13) % 7, (y * y) % 253, (x + y) % 256],
    ];
    let cases = 0;
    for (const [i, strategy] of strategies.entries()) {
      for (const level of [1, 6, 9]) {
        for (const windowBits of [9, 12, 15]) {
          const width = 37 + 91 * i + level;
          const height = 11 + windowBits;
          const pattern = patterns[
            (i + level + windowBits) % patterns.length
          ] as (typeof patterns)[0];
          const file = makePng(width, height, pattern, {
            level,
            deflate: { strategy, windowBits },
            idatBytes: [1, 97, 8192][cases % 3],
          });
          const img = await codecs.decode(file, "png");
          const expected = new Uint8ClampedArray(width * height * 4);
          for (let y = 0; y < height; y++) {
            for (let x = 0; x < width; x++) expected.set(pattern(x, y), (y * width + x) * 4);
          }
          expect({
            strategy,
            level,
            windowBits,
            same: img.data.every((v, k) => v === expected[k]),
          }).toEqual({
            strategy,
            level,
            windowBits,
            same: true,
          });
          cases++;
        }
      }
    }
    expect(cases).toBe(45);
  });

  test("a region decodes to that box of the whole image, interlaced or not, every colour type", async () => {
    const region = { left: 5, top: 7, width: 19, height: 11 };
    const names = valid.filter((n) => /^(basn|basi|tbbn|tp0n)/.test(n));
    for (const name of names) {
      const bytes = await pngsuite(name);
      const whole = await codecs.decode(bytes, "png");
      const box = await codecs.decode(bytes, "png", { region });
      expect([name, box.width, box.height]).toEqual([name, 19, 11]);
      expect([name, box.data]).toEqual([name, cropRgba(whole, region).data]);
    }
    expect(names.length).toBeGreaterThan(30);
  });
});

describe("round trips", () => {
  test("PNG and lossless WebP round trips are exact", async () => {
    const img = await codecs.decode(await pngsuite("basn6a08.png"), "png");
    const png = await codecs.decode(await codecs.encode(img, { format: "png" }), "png");
    expect(png.data).toEqual(img.data);
    const webp = await codecs.decode(
      await codecs.encode(img, { format: "webp", quality: 100, lossless: true }),
      "webp",
    );
    expect(webp.data).toEqual(img.data);
  });

  test("JPEG decodes as stored, without applying EXIF orientation", async () => {
    const img = await codecs.decode(await fixture("exif-orientation/Landscape_1.jpg"), "jpeg");
    expect([img.width, img.height, img.data.length]).toEqual([1800, 1200, 1800 * 1200 * 4]);
  });

  test("recycled rasters: a decode into a larger kept buffer is the same pixels, and every encoder takes it", async () => {
    const own = createCodecs(loadLocalWasm);
    const photo = await fixture("exif-orientation/Landscape_1.jpg");
    const small = await pngsuite("basn6a08.png");
    const fresh = await own.decode(small, "png");
    own.recycle(await own.decode(photo, "jpeg"));
    const pooled = await own.decode(small, "png");
    // A 32×32 view of the photo's 8.6 MB buffer, holding exactly the file's pixels.
    expect(pooled.data.buffer.byteLength).toBe(1800 * 1200 * 4);
    expect(pooled.data).toEqual(fresh.data);
    for (const options of [
      { format: "png" },
      { format: "webp", quality: 100, lossless: true },
      { format: "avif", quality: 100, speed: 10 },
      { format: "jpeg", quality: 95 },
      { format: "jpeg", quality: 95, mozjpeg: true },
    ] as const) {
      const encoded = await own.encode(pooled, options);
      const back = await own.decode(encoded, options.format);
      expect([options.format, back.width, back.height]).toEqual([options.format, 32, 32]);
      if (options.format === "png" || options.format === "webp") {
        expect(back.data).toEqual(fresh.data);
      }
    }
  });
});

describe("decoding the variety of real files", () => {
  /** Mean absolute difference over all channel values. */
  const mad = (a: Uint8ClampedArray, b: Uint8Array) => {
    let sum = 0;
    for (let i = 0; i < a.length; i++) sum += Math.abs((a[i] as number) - (b[i] as number));
    return sum / a.length;
  };
  const photo = fixture("exif-orientation/Landscape_1.jpg");

  test("progressive, grayscale and CMYK JPEGs, lossy/lossless/alpha WebP and AVIF decode like sharp decodes them", async () => {
    const src = sharp(await photo).resize(240);
    const cases: [string, Uint8Array, DecodableFormat][] = [
      ["progressive JPEG", await src.clone().jpeg({ progressive: true }).toBuffer(), "jpeg"],
      ["grayscale JPEG", await src.clone().toColourspace("b-w").jpeg().toBuffer(), "jpeg"],
      ["lossy WebP", await fixture("generated/landscape-240.webp"), "webp"],
      ["lossless WebP", await fixture("generated/landscape-120-lossless.webp"), "webp"],
      ["WebP with alpha", await src.clone().ensureAlpha(0.5).webp().toBuffer(), "webp"],
      ["AVIF", await fixture("generated/landscape-300.avif"), "avif"],
    ];
    for (const [name, bytes, format] of cases) {
      const ours = await codecs.decode(new Uint8Array(bytes), format);
      const { data, info } = await sharp(bytes)
        .ensureAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      expect([name, ours.width, ours.height]).toEqual([name, info.width, info.height]);
      // Decoders may round or upsample chroma differently; a wrong colour space would be far off.
      expect([name, mad(ours.data, new Uint8Array(data)) < 3]).toEqual([name, true]);
    }
  });

  test("a CMYK JPEG is refused without reaching (and killing) the decoder", async () => {
    const cmyk = new Uint8Array(
      await sharp(await photo)
        .resize(64)
        .toColourspace("cmyk")
        .jpeg()
        .toBuffer(),
    );
    await expect(codecs.decode(cmyk, "jpeg")).rejects.toBeInstanceOf(UnsupportedImageError);
    expect((await codecs.decode(await photo, "jpeg")).width).toBe(1800);
  });
});

function premultiplied(data: Uint8ClampedArray): Uint8ClampedArray {
  const out = new Uint8ClampedArray(data.length);
  for (let i = 0; i < data.length; i += 4) {
    const a = data[i + 3] as number;
    for (let c = 0; c < 3; c++) out[i + c] = ((data[i + c] as number) * a) / 255;
    out[i + 3] = a;
  }
  return out;
}

describe("resampling", () => {
  test("matches jSquash's resizer for every filter (PSNR > 40 dB), transparency included", async () => {
    await initResize(
      await loadProjectWasm("@jsquash/resize/lib/resize/pkg/squoosh_resize_bg.wasm"),
    );
    const photo = await codecs.decode(await fixture("photos/elephants-5640x3172.jpg"), "jpeg", {
      scaleDenom: 8,
    });
    const translucent = await codecs.decode(await pngsuite("basn6a08.png"), "png");
    for (const img of [photo, translucent]) {
      for (const kernel of ["lanczos3", "mitchell", "catrom", "triangle"] as const) {
        for (const [w, h] of [
          [Math.round(img.width / 3), Math.round(img.height / 3)],
          [Math.round(img.width / 1.3), Math.round(img.height / 2.4)],
          [img.width * 2, img.height + 7],
        ] as const) {
          const ours = await codecs.resize(img, w, h, kernel);
          const theirs = await jsquashResize(
            { ...img, data: img.data.slice(), colorSpace: "srgb" } as ImageData,
            {
              width: w,
              height: h,
              method: kernel,
              fitMethod: "stretch",
              premultiply: true,
              linearRGB: false,
            },
          );
          expect([kernel, w, h, ours.width, ours.height]).toEqual([kernel, w, h, w, h]);
          // Colour under (nearly) transparent pixels is arbitrary: compare premultiplied.
          const score = psnr(premultiplied(ours.data), premultiplied(theirs.data));
          expect([kernel, w, h, score > 40]).toEqual([kernel, w, h, true]);
        }
      }
    }
  });
});
