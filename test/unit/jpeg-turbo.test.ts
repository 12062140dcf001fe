import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import sharp from "sharp";
import { loadLocalWasm } from "../../src/adapters/bun/wasm.ts";
import { createCodecs } from "../../src/core/formats/codecs.ts";
import { instantiateJpegTurbo, JpegCodecError } from "../../src/core/formats/jpeg-turbo.ts";
import { cropRgba } from "../../src/core/imaging/kernels.ts";
import type { RgbaImage } from "../../src/core/imaging/raster.ts";
import { instantiateResampler } from "../../src/core/imaging/resampler.ts";
import { shrinkOnLoadFactor } from "../../src/core/imaging/resize-plan.ts";
import { runPipeline } from "../../src/core/pipeline/pipeline.ts";
import {
  type PipelineSpecInput,
  PipelineSpecSchema,
} from "../../src/core/pipeline/pipeline-spec.ts";
import { fixture } from "../support/fixtures.ts";
import { psnr } from "../support/similarity.ts";

const resampler = await instantiateResampler(await loadLocalWasm("resample"));

const jpeg = await instantiateJpegTurbo(await loadLocalWasm("jpeg"));
const photo = await fixture("exif-orientation/Landscape_1.jpg");

// Odd sides, so that every reduction rounds up: 1001×667 → 501×334, 251×167, 126×84.
const odd = sharp(photo).resize(1001, 667, { fit: "fill" });
const bytesOf = async (s: ReturnType<typeof sharp>) => new Uint8Array(await s.toBuffer());
const files = {
  "baseline 4:2:0": await bytesOf(odd.clone().jpeg({ quality: 90 })),
  "baseline 4:4:4": await bytesOf(odd.clone().jpeg({ quality: 90, chromaSubsampling: "4:4:4" })),
  progressive: await bytesOf(odd.clone().jpeg({ quality: 90, progressive: true })),
  grey: await bytesOf(odd.clone().toColourspace("b-w").jpeg({ quality: 90 })),
};

/** Mean absolute difference over the RGBA values of `b`'s area (top-left aligned in `a`). */
function meanAbsDiff(a: RgbaImage, b: RgbaImage): number {
  let sum = 0;
  for (let y = 0; y < b.height; y++) {
    for (let x = 0; x < b.width * 4; x++) {
      sum += Math.abs(
        (a.data[y * a.width * 4 + x] as number) - (b.data[y * b.width * 4 + x] as number),
      );
    }
  }
  return sum / (b.width * b.height * 4);
}

// sharp writes no 4:2:2: this one is cjpeg's (test/fixtures/generated/README.md). Full size only:
// reduced, libjpeg upsamples its chroma from a smaller IDCT (0.65 level off a box shrink at 1/4).
const file422 = await fixture("generated/landscape-1001-422.jpg");

describe("decoding", () => {
  test("at full size, pixel for pixel what sharp (libvips + libjpeg) decodes", async () => {
    for (const [name, bytes] of Object.entries({ ...files, "baseline 4:2:2": file422 })) {
      const ours = jpeg.decode(bytes);
      const theirs = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      expect([name, ours.width, ours.height, ours.warnings]).toEqual([name, 1001, 667, 0]);
      expect([name, Buffer.compare(Buffer.from(ours.data), theirs.data)]).toEqual([name, 0]);
    }
  });

  test("at every scale, the bytes of libjpeg-turbo's own C (jsimd_wasm.c's SIMD changes none)", async () => {
    // SHA-256 (first 16 hex digits) of the RGBA at 1, 1/2, 1/4, 1/8 from a build of the same
    // source without jsimd_wasm.c (wasm/jpeg-scaled/README.md): 4:2:0, 4:2:2 and 4:4:4 baseline.
    const expected = {
      "exif-orientation/Landscape_1.jpg": [
        "ee26ff295d43cc3f",
        "8960befaa24c1e7a",
        "8bc7e1a294ee34d3",
        "32c3aabcf5f2ed62",
      ],
      "generated/landscape-1001-422.jpg": [
        "a7ac46a9347de9e6",
        "6e7034f9ed452e3e",
        "47a7df2d659007e3",
        "0646bf5383ce05b5",
      ],
      "generated/landscape-501-444.jpg": [
        "4795aa817562dabd",
        "5febef292ef90060",
        "5398f61ceabe191b",
        "9783d55f24c38f6e",
      ],
    };
    for (const [name, hashes] of Object.entries(expected)) {
      const bytes = await fixture(name);
      const got = ([1, 2, 4, 8] as const).map((scaleDenom) =>
        createHash("sha256")
          .update(jpeg.decode(bytes, { scaleDenom }).data)
          .digest("hex")
          .slice(0, 16),
      );
      expect([name, got]).toEqual([name, hashes]);
    }
  });

  test("at 1/2, 1/4, 1/8: sides rounded up, pixels within 0.5 level of a full decode box-shrunk", () => {
    const sizes = { 1: [1001, 667], 2: [501, 334], 4: [251, 167], 8: [126, 84] } as const;
    for (const [name, bytes] of Object.entries(files)) {
      const full = jpeg.decode(bytes);
      for (const scaleDenom of [1, 2, 4, 8] as const) {
        const reduced = jpeg.decode(bytes, { scaleDenom });
        expect([name, scaleDenom, reduced.width, reduced.height]).toEqual([
          name,
          scaleDenom,
          ...sizes[scaleDenom],
        ]);
        // The box shrink drops the partial last block; the reduced decode keeps it.
        const diff = meanAbsDiff(reduced, resampler.shrink(full, scaleDenom, scaleDenom));
        expect([name, scaleDenom, diff < 0.5]).toEqual([name, scaleDenom, true]);
      }
    }
  });

  test("a region decodes to the full decode's crop, at full size and reduced", () => {
    const cases = [
      [1, { left: 301, top: 17, width: 400, height: 333 }],
      [1, { left: 0, top: 600, width: 1001, height: 67 }],
      [2, { left: 33, top: 101, width: 200, height: 99 }],
    ] as const;
    for (const [name, bytes] of Object.entries(files)) {
      for (const [scaleDenom, box] of cases) {
        const region = jpeg.decode(bytes, { scaleDenom, region: box });
        const full = cropRgba(jpeg.decode(bytes, { scaleDenom }), box);
        expect([name, box, region.width, region.height]).toEqual([
          name,
          box,
          box.width,
          box.height,
        ]);
        // Chroma upsampled from the region's own iMCU edges may differ by a level at its sides.
        expect([name, box, psnr(region.data, full.data) > 45]).toEqual([name, box, true]);
      }
    }
    expect(() =>
      jpeg.decode(files.grey, { region: { left: 900, top: 0, width: 200, height: 10 } }),
    ).toThrow("JPEG region lies outside the image");
  });

  test("grey files decode to R = G = B with opaque alpha", () => {
    const img = jpeg.decode(files.grey, { scaleDenom: 2 });
    let off = 0;
    for (let i = 0; i < img.data.length; i += 4) {
      const [r, g, b, a] = img.data.subarray(i, i + 4);
      if (r !== g || g !== b || a !== 255) off++;
    }
    expect(off).toBe(0);
  });

  test("corrupt data is a JpegCodecError with libjpeg's message, and the codec lives on", () => {
    const cases: [Uint8Array, string][] = [
      [new Uint8Array([1, 2, 3]), "Not a JPEG file: starts with 0x01 0x02"],
      [new Uint8Array(0), "Empty input file"],
      [new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), "JPEG datastream contains no image"],
      [files["baseline 4:2:0"].subarray(0, 300), "Bogus Huffman table definition"],
    ];
    for (const [bytes, message] of cases) {
      expect(() => jpeg.decode(bytes)).toThrow(new JpegCodecError(message));
    }
    expect(jpeg.decode(files.progressive, { scaleDenom: 8 }).width).toBe(126);
  });

  test("a truncated file decodes, its missing part grey, and reports libjpeg's warnings", () => {
    const bytes = files["baseline 4:2:0"];
    const img = jpeg.decode(bytes.subarray(0, bytes.length >> 1));
    expect([img.width, img.height, img.warnings > 0]).toEqual([1001, 667, true]);
    const last = img.data.subarray(img.data.length - 4);
    expect([...last]).toEqual([128, 128, 128, 255]);
  });

  test("bad scale factors are refused by name", () => {
    expect(() => jpeg.decode(files.grey, { scaleDenom: 3 as 2 })).toThrow(
      "Expected 1, 2, 4 or 8 for scaleDenom but received 3",
    );
  });

  test("thousands of failures and hundreds of decodes leave the wasm memory as it was", () => {
    const big = files["baseline 4:4:4"];
    const cut = files["baseline 4:2:0"].subarray(0, 300); // ends inside a Huffman table
    for (let i = 0; i < 8; i++) jpeg.decode(big, { scaleDenom: 1 });
    const settled = jpeg.memoryBytes();
    const reference = jpeg.decode(big, { scaleDenom: 8 }).data;
    // A failure unwinds the wasm frames with a JS exception, leaving 272 bytes of shadow stack
    // behind unless the stack pointer is restored: 4000 failures would overrun the 1 MiB stack,
    // which sits first in memory (--stack-first), so the overrun traps instead of corrupting data.
    for (let i = 0; i < 4000; i++) {
      expect(() => jpeg.decode(cut)).toThrow(JpegCodecError);
      if (i % 20 === 0) jpeg.decode(big, { scaleDenom: ([1, 2, 4, 8] as const)[(i / 20) % 4] });
    }
    expect(jpeg.decode(big, { scaleDenom: 8 }).data).toEqual(reference);
    expect(jpeg.memoryBytes()).toBe(settled);
  });
});

describe("encoding", () => {
  const img = jpeg.decode(files["baseline 4:4:4"]);

  test("the bytes of libjpeg-turbo's own C (jsimd_wasm.c's colour conversion and quantisation change none)", () => {
    // SHA-256 (first 16 hex digits) of the files the build without jsimd_wasm.c writes from the
    // 4:2:2 fixture's pixels (1001 wide: the colour conversion's tail of single pixels runs too).
    const pixels = jpeg.decode(file422);
    const got = (
      [
        { quality: 80, progressive: false, chromaSubsampling: "4:2:0", optimizeCoding: true },
        { quality: 95, progressive: false, chromaSubsampling: "4:4:4", optimizeCoding: false },
        { quality: 20, progressive: true, chromaSubsampling: "4:2:0", optimizeCoding: true },
      ] as const
    ).map((options) =>
      createHash("sha256").update(jpeg.encode(pixels, options)).digest("hex").slice(0, 16),
    );
    expect(got).toEqual(["38c2f659357f2ae2", "5021861da123fd75", "2d1e88ce0f7b6f20"]);
  });

  test("round trip at q90 keeps ≥ 38 dB; options reach the file's frame header", () => {
    const baseline = jpeg.encode(img, { quality: 90 });
    expect(psnr(jpeg.decode(baseline).data, img.data)).toBeGreaterThanOrEqual(38);
    /** The SOFn marker and the luma sampling factors byte of a JPEG. */
    const frame = (b: Uint8Array) => {
      for (let at = 2; at < b.length; ) {
        const marker = b[at + 1] as number;
        if (marker === 0xc0 || marker === 0xc2) return [marker, b[at + 11]];
        at += 2 + (((b[at + 2] as number) << 8) | (b[at + 3] as number));
      }
      return [];
    };
    expect(frame(baseline)).toEqual([0xc0, 0x22]);
    expect(frame(jpeg.encode(img, { quality: 90, chromaSubsampling: "4:4:4" }))).toEqual([
      0xc0, 0x11,
    ]);
    const progressive = jpeg.encode(img, { quality: 90, progressive: true });
    expect(frame(progressive)).toEqual([0xc2, 0x22]);
    expect(psnr(jpeg.decode(progressive).data, jpeg.decode(baseline).data)).toBe(
      Number.POSITIVE_INFINITY,
    );
  });

  test("optimised Huffman tables make the same pixels in a smaller file, like sharp's", async () => {
    const optimised = jpeg.encode(img, { quality: 80 });
    const plain = jpeg.encode(img, { quality: 80, optimizeCoding: false });
    expect(optimised.length).toBeLessThan(plain.length);
    expect(jpeg.decode(optimised).data).toEqual(jpeg.decode(plain).data);
    const viaSharp = await sharp(Buffer.from(img.data), {
      raw: { width: img.width, height: img.height, channels: 4 },
    })
      .jpeg({ quality: 80 })
      .toBuffer();
    expect(Math.abs(optimised.length / viaSharp.length - 1)).toBeLessThan(0.02);
  });

  test("quality outside 1–100 is refused by name", () => {
    expect(() => jpeg.encode(img, { quality: 0 })).toThrow(
      "Expected an integer between 1 and 100 for quality but received 0",
    );
  });

  test("pixels that do not fill width × height are refused, not read past", () => {
    const short = { data: img.data.subarray(4), width: img.width, height: img.height };
    expect(() => jpeg.encode(short, { quality: 80 })).toThrow(
      `Expected an RGBA image with width × height × 4 bytes but received ${img.width}×${img.height} with ${img.data.length - 4} bytes`,
    );
    expect(() => jpeg.encode({ ...img, width: 0 }, { quality: 80 })).toThrow(RangeError);
  });
});

describe("shrink-on-load", () => {
  test("sharp's rule: the largest 1/2^k keeping the target, halved on a whole-number shrink", () => {
    const cases: [number, number, number, number, number][] = [
      [4000, 3000, 800, 600, 4], // shrink 5
      [4000, 3000, 1000, 750, 2], // shrink 4, whole: 2 not 4
      [4000, 3000, 1100, 825, 2], // shrink 3.6
      [4000, 3000, 2001, 1500, 1], // shrink 1.999
      [4000, 3000, 400, 300, 8], // shrink 10
      [4000, 3000, 500, 375, 4], // shrink 8, whole: 4 not 8
      [4000, 3000, 100, 2000, 1], // fill: the less-shrunk axis counts
      [1800, 1200, 100, 67, 8],
    ];
    for (const [sw, sh, width, height, factor] of cases) {
      expect([sw, sh, width, height, shrinkOnLoadFactor(sw, sh, { width, height })]).toEqual([
        sw,
        sh,
        width,
        height,
        factor,
      ]);
    }
  });

  const codecs = createCodecs(loadLocalWasm);
  const run = async (bytes: Uint8Array, spec: PipelineSpecInput) => {
    const parsed = PipelineSpecSchema.parse(spec);
    const out = await runPipeline(codecs, {
      bytes,
      format: "jpeg",
      spec: { ...parsed, format: "png" },
      maxPixels: 1e8,
    });
    return codecs.decode(out.bytes, "png");
  };

  test("a 4000×3000 thumbnail decoded at 1/4 matches sharp's thumbnail at ≥ 45 dB", async () => {
    const big = new Uint8Array(
      await sharp(photo).resize(4000, 3000).jpeg({ quality: 90 }).toBuffer(),
    );
    const ours = await run(big, {
      operations: [{ op: "resize", width: 800, height: 600, fit: "inside" }],
    });
    const theirs = await sharp(big)
      .resize(800, 600, { fit: "inside" })
      .ensureAlpha()
      .raw()
      .toBuffer();
    expect([ours.width, ours.height]).toEqual([800, 600]);
    expect(psnr(ours.data, new Uint8Array(theirs))).toBeGreaterThanOrEqual(45);
  });

  test("EXIF orientation is accounted for: rotated sources shrink on load to the upright size", async () => {
    const upright = await run(photo, { operations: [{ op: "resize", width: 200 }] });
    for (const n of [3, 6, 8]) {
      const img = await run(await fixture(`exif-orientation/Landscape_${n}.jpg`), {
        operations: [{ op: "resize", width: 200 }],
      });
      expect([n, img.width, img.height]).toEqual([n, 200, 133]);
      expect([n, meanAbsDiff(img, upright) < 4]).toEqual([n, true]);
    }
  });
});
