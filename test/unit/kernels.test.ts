import { describe, expect, test } from "bun:test";
import { loadLocalWasm } from "../../src/adapters/bun/wasm.ts";
import {
  cropRgba,
  entropyCropOffset,
  flipRgba,
  flopRgba,
  grayscaleRgba,
  type ResampleFilter,
  resampleWeights,
  rotateRgba,
  rotateRightAngle,
  shrinkFactorsFor,
} from "../../src/core/imaging/kernels.ts";
import type { RgbaImage } from "../../src/core/imaging/raster.ts";
import { instantiateResampler } from "../../src/core/imaging/resampler.ts";

const resampler = await instantiateResampler(await loadLocalWasm("resample"));

type Px = [number, number, number, number];

const image = (width: number, height: number, pixels: Px[]): RgbaImage => ({
  data: new Uint8ClampedArray(pixels.flat()),
  width,
  height,
});

const pixelsOf = (img: RgbaImage): Px[] => {
  const out: Px[] = [];
  for (let i = 0; i < img.data.length; i += 4) out.push([...img.data.subarray(i, i + 4)] as Px);
  return out;
};

const pixelAt = (img: RgbaImage, x: number, y: number): Px =>
  [...img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 4)] as Px;

// Deterministic noise (a 32-bit LCG), so failures reproduce.
function noise(width: number, height: number, seed = 1, opaque = false): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = s >>> 24;
  }
  if (opaque) for (let i = 3; i < data.length; i += 4) data[i] = 255;
  return { data, width, height };
}

const solid = (width: number, height: number, px: Px): RgbaImage =>
  image(
    width,
    height,
    Array.from({ length: width * height }, () => px),
  );

// 3×2, every pixel distinct:  A B C
//                             D E F
const A: Px = [10, 11, 12, 255];
const B: Px = [20, 21, 22, 254];
const C: Px = [30, 31, 32, 253];
const D: Px = [40, 41, 42, 252];
const E: Px = [50, 51, 52, 251];
const F: Px = [60, 61, 62, 250];
const abc = () => image(3, 2, [A, B, C, D, E, F]);

const same = (a: RgbaImage, b: RgbaImage) => {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  expect(a.data).toEqual(b.data);
};

describe("cropRgba", () => {
  test("cuts the box out, exactly", () => {
    const right = cropRgba(abc(), { left: 1, top: 0, width: 2, height: 2 });
    expect([right.width, right.height]).toEqual([2, 2]);
    expect(pixelsOf(right)).toEqual([B, C, E, F]);
    expect(pixelsOf(cropRgba(abc(), { left: 0, top: 1, width: 3, height: 1 }))).toEqual([D, E, F]);
    expect(pixelsOf(cropRgba(abc(), { left: 2, top: 1, width: 1, height: 1 }))).toEqual([F]);
  });

  test("the whole image is a copy", () => {
    const img = abc();
    const out = cropRgba(img, { left: 0, top: 0, width: 3, height: 2 });
    same(out, img);
    expect(out.data).not.toBe(img.data);
  });
});

describe("rotateRightAngle", () => {
  test("90, 180 and 270 clockwise are exact permutations", () => {
    const r90 = rotateRightAngle(abc(), 90);
    expect([r90.width, r90.height]).toEqual([2, 3]);
    expect(pixelsOf(r90)).toEqual([D, A, E, B, F, C]);
    const r180 = rotateRightAngle(abc(), 180);
    expect([r180.width, r180.height]).toEqual([3, 2]);
    expect(pixelsOf(r180)).toEqual([F, E, D, C, B, A]);
    const r270 = rotateRightAngle(abc(), 270);
    expect([r270.width, r270.height]).toEqual([2, 3]);
    expect(pixelsOf(r270)).toEqual([C, F, B, E, A, D]);
  });

  test("matches a naive rotation across several tiles, and four quarter turns are identity", () => {
    const img = noise(131, 67, 7);
    const naive = image(
      67,
      131,
      Array.from({ length: 131 * 67 }, (_, i) => pixelAt(img, Math.floor(i / 67), 66 - (i % 67))),
    );
    same(rotateRightAngle(img, 90), naive);
    let turned = img;
    for (let i = 0; i < 4; i++) turned = rotateRightAngle(turned, 90);
    same(turned, img);
    same(rotateRightAngle(rotateRightAngle(img, 90), 270), img);
    same(rotateRightAngle(rotateRightAngle(img, 180), 180), img);
  });

  test("reads pixel data that is not 4-byte aligned", () => {
    const bytes = new Uint8ClampedArray(1 + 24);
    bytes.set(abc().data, 1);
    const unaligned = { data: bytes.subarray(1), width: 3, height: 2 };
    expect(pixelsOf(rotateRightAngle(unaligned, 90))).toEqual([D, A, E, B, F, C]);
    expect(pixelsOf(flopRgba(unaligned))).toEqual([C, B, A, F, E, D]);
  });
});

describe("flipRgba and flopRgba", () => {
  test("flip mirrors top and bottom, flop left and right", () => {
    expect(pixelsOf(flipRgba(abc()))).toEqual([D, E, F, A, B, C]);
    expect(pixelsOf(flopRgba(abc()))).toEqual([C, B, A, F, E, D]);
  });

  test("twice is identity; flip + flop is a half turn", () => {
    const img = noise(9, 7, 3);
    same(flipRgba(flipRgba(img)), img);
    same(flopRgba(flopRgba(img)), img);
    same(flopRgba(flipRgba(img)), rotateRightAngle(img, 180));
  });
});

describe("rotateRgba", () => {
  const transparent: Px = [0, 0, 0, 0];

  test("right angles, in any turn, delegate to the exact rotation", () => {
    const img = noise(5, 3, 11);
    same(rotateRgba(img, 90, transparent), rotateRightAngle(img, 90));
    same(rotateRgba(img, -90, transparent), rotateRightAngle(img, 270));
    same(rotateRgba(img, 450, transparent), rotateRightAngle(img, 90));
    same(rotateRgba(img, -180, transparent), rotateRightAngle(img, 180));
    const whole = rotateRgba(img, 360, transparent);
    same(whole, img);
    expect(whole.data).not.toBe(img.data);
    same(rotateRgba(img, 0, transparent), img);
  });

  test("45° on 10×10 gives the 15×15 bounding box, background corners, an exact centre", () => {
    const red: Px = [200, 0, 0, 255];
    const blue: Px = [0, 0, 255, 255];
    const out = rotateRgba(solid(10, 10, red), 45, blue);
    expect([out.width, out.height]).toEqual([15, 15]); // ceil(2 × 10 × cos 45°) = ceil(14.14)
    for (const [x, y] of [
      [0, 0],
      [14, 0],
      [0, 14],
      [14, 14],
    ] as const) {
      expect(pixelAt(out, x, y)).toEqual(blue);
    }
    expect(pixelAt(out, 7, 7)).toEqual(red);
    // The diamond's edges blend red into blue instead of stepping from one to the other.
    const blended = pixelsOf(out).filter(([r, , b]) => r > 0 && b > 0);
    expect(blended.length).toBeGreaterThan(20);
    for (const [r, g, b, a] of blended) {
      expect(r + b).toBeGreaterThanOrEqual(199);
      expect(r + b).toBeLessThanOrEqual(256);
      expect([g, a]).toEqual([0, 255]);
    }
  });

  test("a 1×1 image at 45° is a 2×2 blend of the pixel and the background, exactly", () => {
    // Each output centre samples the source 0.707 px from its centre: 29.3% pixel, 70.7% background.
    const white = image(1, 1, [[255, 255, 255, 255]]);
    const onBlack = rotateRgba(white, 45, [0, 0, 0, 255]);
    expect([onBlack.width, onBlack.height]).toEqual([2, 2]);
    expect(pixelsOf(onBlack)).toEqual(Array.from({ length: 4 }, (): Px => [75, 75, 75, 255]));
    // On a transparent background the colour stays white and only the coverage drops.
    const onNothing = rotateRgba(white, 45, transparent);
    expect(pixelsOf(onNothing)).toEqual(Array.from({ length: 4 }, (): Px => [255, 255, 255, 75]));
  });

  test("a transparent background does not darken the edges", () => {
    const out = rotateRgba(solid(10, 10, [255, 255, 255, 255]), 30, transparent);
    expect([out.width, out.height]).toEqual([14, 14]); // ceil(10 cos 30° + 10 sin 30°) = ceil(13.66)
    const px = pixelsOf(out);
    expect(px.some(([, , , a]) => a > 0 && a < 255)).toBe(true);
    for (const [r, g, b, a] of px) {
      if (a > 0) expect([r, g, b]).toEqual([255, 255, 255]);
      else expect([r, g, b]).toEqual([0, 0, 0]);
    }
  });
});

describe("grayscaleRgba", () => {
  test("Rec. 709 luma, rounded half up, alpha kept", () => {
    const out = grayscaleRgba(
      image(7, 1, [
        [255, 0, 0, 128], // 54.213
        [0, 255, 0, 255], // 182.376
        [0, 0, 255, 10], // 18.411
        [100, 150, 200, 0], // 142.98
        [77, 77, 77, 200], // grey stays grey
        [1, 15, 77, 255], // 16.5 exactly: half up
        [255, 255, 255, 255],
      ]),
    );
    expect(pixelsOf(out)).toEqual([
      [54, 54, 54, 128],
      [182, 182, 182, 255],
      [18, 18, 18, 10],
      [143, 143, 143, 0],
      [77, 77, 77, 200],
      [17, 17, 17, 255],
      [255, 255, 255, 255],
    ]);
  });
});

describe("box shrink (wasm/resample)", () => {
  test("4×4 → 2×2: plain means when opaque, alpha-weighted colour otherwise", () => {
    const o = 255;
    // Blocks: top-left opaque; top-right one opaque red pixel among transparent black ones;
    // bottom-left an opaque and a half-transparent pixel; bottom-right nothing opaque at all,
    // whatever colours hide under alpha 0.
    const img = image(4, 4, [
      [10, 20, 40, o],
      [11, 30, 41, o],
      [255, 0, 0, o],
      [0, 0, 0, 0],
      [10, 20, 40, o],
      [11, 21, 42, o],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [200, 100, 0, o],
      [0, 0, 0, 0],
      [255, 255, 255, 0],
      [9, 9, 9, 0],
      [100, 50, 0, 128],
      [0, 0, 0, 0],
      [255, 0, 255, 0],
      [1, 2, 3, 0],
    ]);
    const out = resampler.shrink(img, 2, 2);
    expect([out.width, out.height]).toEqual([2, 2]);
    expect(pixelsOf(out)).toEqual([
      [11, 23, 41, 255], // (10+11+10+11)/4 = 10.5, (20+30+20+21)/4 = 22.75, (40+41+40+42)/4 = 40.75
      [255, 0, 0, 64], // a plain mean would give [64, 0, 0, 64]: a darkened edge
      [167, 83, 0, 96], // (200·255 + 100·128) / 383 = 166.6, 31900 / 383 = 83.3, 383 / 4 = 95.75
      [0, 0, 0, 0],
    ]);
  });

  test("drops the columns and rows that do not fill a whole block", () => {
    const img = image(5, 3, [
      [10, 0, 0, 255],
      [20, 0, 0, 255],
      [30, 0, 0, 255],
      [40, 0, 0, 255],
      [99, 99, 99, 255],
      [10, 0, 0, 255],
      [20, 0, 0, 255],
      [30, 0, 0, 255],
      [40, 0, 0, 255],
      [99, 99, 99, 255],
      [99, 99, 99, 255],
      [99, 99, 99, 255],
      [99, 99, 99, 255],
      [99, 99, 99, 255],
      [99, 99, 99, 255],
    ]);
    const out = resampler.shrink(img, 2, 2);
    expect([out.width, out.height]).toEqual([2, 1]);
    expect(pixelsOf(out)).toEqual([
      [15, 0, 0, 255],
      [35, 0, 0, 255],
    ]);
    const whole = resampler.shrink(img, 5, 3);
    expect([whole.width, whole.height]).toEqual([1, 1]);
  });

  test("matches an integer-division reference on noise, for many factors and block sizes", () => {
    const reference = (img: RgbaImage, fx: number, fy: number): Px[] => {
      const out: Px[] = [];
      for (let oy = 0; oy < Math.floor(img.height / fy); oy++) {
        for (let ox = 0; ox < Math.floor(img.width / fx); ox++) {
          let [r, g, b, a] = [0, 0, 0, 0];
          for (let y = oy * fy; y < (oy + 1) * fy; y++) {
            for (let x = ox * fx; x < (ox + 1) * fx; x++) {
              const [pr, pg, pb, pa] = pixelAt(img, x, y);
              r += pr * pa;
              g += pg * pa;
              b += pb * pa;
              a += pa;
            }
          }
          const half = (s: number, d: number) => Math.floor((2 * s + d) / (2 * d));
          out.push(a === 0 ? [0, 0, 0, 0] : [half(r, a), half(g, a), half(b, a), half(a, fx * fy)]);
        }
      }
      return out;
    };
    const img = noise(37, 29, 5);
    for (const [fx, fy] of [
      [1, 2],
      [2, 1],
      [2, 2],
      [3, 3],
      [4, 7],
      [5, 2],
      [37, 29],
    ] as const) {
      expect(pixelsOf(resampler.shrink(img, fx, fy))).toEqual(reference(img, fx, fy));
    }
    // Large enough to be shrunk in two bands of rows (4 MB of source at a time).
    const wide = noise(1024, 1100, 11);
    for (const [fx, fy] of [
      [2, 1],
      [3, 3],
    ] as const) {
      expect(pixelsOf(resampler.shrink(wide, fx, fy))).toEqual(reference(wide, fx, fy));
    }
    // A block too big for 32-bit sums of colour × alpha (300 × 300 × 255 × 255 > 2^32).
    const big = noise(300, 300, 9, true);
    expect(pixelsOf(resampler.shrink(big, 300, 300))).toEqual(reference(big, 300, 300));
  });

  test("factors of 1 give a copy", () => {
    const img = noise(4, 3, 2);
    const out = resampler.shrink(img, 1, 1);
    same(out, img);
    expect(out.data).not.toBe(img.data);
  });
});

describe("resample (wasm/resample)", () => {
  /** The convolution in double precision: premultiplied, unpremultiplied, rounded, clamped. */
  function reference(img: RgbaImage, width: number, height: number, filter: ResampleFilter) {
    const h = resampleWeights(img.width, width, filter);
    const v = resampleWeights(img.height, height, filter);
    const out: Px[] = [];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let [r, g, b, alpha] = [0, 0, 0, 0];
        for (let j = 0; j < (v.counts[y] as number); j++) {
          for (let i = 0; i < (h.counts[x] as number); i++) {
            const w = (v.weights[y * v.taps + j] as number) * (h.weights[x * h.taps + i] as number);
            const at =
              (((v.starts[y] as number) + j) * img.width + (h.starts[x] as number) + i) * 4;
            const [pr, pg, pb, pa] = img.data.subarray(at, at + 4) as unknown as Px;
            r += (w * pr * pa) / 255;
            g += (w * pg * pa) / 255;
            b += (w * pb * pa) / 255;
            alpha += w * pa;
          }
        }
        const a = Math.min(255, Math.max(0, alpha));
        const colour = [r, g, b].map((c) => (a > 0 ? (c * 255) / a : 0));
        out.push([...colour, a].map((c) => Math.round(Math.min(255, Math.max(0, c)))) as Px);
      }
    }
    return out;
  }

  test("opaque rows (fixed point) and translucent rows (floating point) both match a double-precision reference within 1", () => {
    // Opaque noise but for a band of translucent rows: the horizontal pass picks the
    // integer or the premultiplied floating-point path row by row.
    const img = noise(61, 47, 13, true);
    for (let y = 20; y < 26; y++) {
      for (let x = 0; x < img.width; x++)
        img.data[(y * img.width + x) * 4 + 3] = 40 + 30 * (y - 20);
    }
    for (const filter of ["lanczos3", "mitchell", "catrom", "triangle"] as const) {
      for (const [w, h] of [
        [25, 19],
        [60, 13],
        [97, 70],
      ] as const) {
        const ours = resampler.resample(img, w, h, filter).data;
        const theirs = reference(img, w, h, filter).flat();
        let worst = 0;
        for (const [i, value] of ours.entries()) {
          worst = Math.max(worst, Math.abs(value - (theirs[i] as number)));
        }
        expect([filter, w, h, worst]).toEqual([filter, w, h, Math.min(worst, 1)]);
      }
    }
  });

  test("the filters' normalised weights stay within ±1.3, inside the 16-bit fixed point's ±2", () => {
    let largest = 0;
    for (const filter of ["lanczos3", "mitchell", "catrom", "triangle"] as const) {
      for (let from = 1; from <= 40; from++) {
        for (const to of [1, 2, 3, 7, 16, 39, 40, 41, 97, 400]) {
          for (const w of resampleWeights(from, to, filter).weights) {
            largest = Math.max(largest, Math.abs(w));
          }
        }
      }
    }
    expect(largest).toBeGreaterThan(1);
    expect(largest).toBeLessThan(1.3);
  });
});

describe("shrinkFactorsFor", () => {
  test.each([
    [4000, 3000, 800, 600, [3, 3]], // 1333×1000: within 2× of the target, not below it
    [4000, 3000, 400, 300, [5, 5]],
    [4000, 3000, 1000, 1000, [2, 2]], // each axis on its own (fit: fill)
    [6000, 4000, 100, 100, [30, 20]],
    [1599, 1600, 400, 400, [2, 2]],
    [3000, 3000, 1600, 1000, [1, 2]], // 3000 ≤ 2 × 1600 already
    [100, 100, 200, 200, [1, 1]], // enlarging
  ] as const)("%d×%d → %d×%d: %p", (srcW, srcH, dstW, dstH, factors) => {
    const got = shrinkFactorsFor(srcW, srcH, dstW, dstH);
    expect(got).toEqual([...factors]);
    for (const [src, dst, f] of [
      [srcW, dstW, got[0]],
      [srcH, dstH, got[1]],
    ]) {
      const shrunk = Math.floor((src as number) / (f as number));
      expect(shrunk).toBeGreaterThanOrEqual(Math.min(src as number, dst as number));
      if (f !== 1) expect(shrunk).toBeLessThanOrEqual(2 * (dst as number));
    }
  });
});

describe("entropyCropOffset", () => {
  // Flat grey where `flat(x, y)` holds, noise elsewhere.
  const halfNoise = (width: number, height: number, flat: (x: number, y: number) => boolean) => {
    const img = noise(width, height, 42, true);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++)
        if (flat(x, y)) img.data.set([128, 128, 128, 255], (y * width + x) * 4);
    }
    return img;
  };

  test("keeps the textured half, whichever side it is on", () => {
    expect(
      entropyCropOffset(
        halfNoise(40, 20, (x) => x < 20),
        20,
        20,
      ),
    ).toEqual({ left: 20, top: 0 });
    expect(
      entropyCropOffset(
        halfNoise(40, 20, (x) => x >= 20),
        20,
        20,
      ),
    ).toEqual({ left: 0, top: 0 });
    expect(
      entropyCropOffset(
        halfNoise(20, 40, (_, y) => y < 20),
        20,
        20,
      ),
    ).toEqual({ left: 0, top: 20 });
    expect(
      entropyCropOffset(
        halfNoise(24, 40, (_, y) => y >= 16),
        24,
        16,
      ),
    ).toEqual({ left: 0, top: 0 });
  });

  test("finds a textured quadrant on both axes", () => {
    const img = halfNoise(40, 40, (x, y) => x < 20 || y < 20);
    expect(entropyCropOffset(img, 20, 20)).toEqual({ left: 20, top: 20 });
  });

  test("the whole image is at the origin", () => {
    expect(entropyCropOffset(noise(7, 5), 7, 5)).toEqual({ left: 0, top: 0 });
  });
});

describe("inputs are never mutated", () => {
  test.each([
    ["cropRgba", (img: RgbaImage) => cropRgba(img, { left: 1, top: 1, width: 5, height: 3 })],
    ["rotateRightAngle 90", (img: RgbaImage) => rotateRightAngle(img, 90)],
    ["rotateRightAngle 180", (img: RgbaImage) => rotateRightAngle(img, 180)],
    ["rotateRightAngle 270", (img: RgbaImage) => rotateRightAngle(img, 270)],
    ["rotateRgba 33°", (img: RgbaImage) => rotateRgba(img, 33, [1, 2, 3, 4])],
    ["rotateRgba 0°", (img: RgbaImage) => rotateRgba(img, 0, [1, 2, 3, 4])],
    ["flipRgba", flipRgba],
    ["flopRgba", flopRgba],
    ["grayscaleRgba", grayscaleRgba],
    ["box shrink", (img: RgbaImage) => resampler.shrink(img, 3, 2)],
    ["box shrink 1×1", (img: RgbaImage) => resampler.shrink(img, 1, 1)],
    ["entropyCropOffset", (img: RgbaImage) => entropyCropOffset(img, 4, 4)],
  ] as const)("%s", (_, kernel) => {
    const img = noise(9, 7, 13);
    const before = img.data.slice();
    const out = kernel(img);
    expect(img.data).toEqual(before);
    expect([img.width, img.height]).toEqual([9, 7]);
    if ("data" in out) expect(out.data.buffer).not.toBe(img.data.buffer);
  });
});

describe("invalid parameters throw RangeErrors that name them", () => {
  const img = abc(); // 3×2
  const cases: [string, () => unknown, string][] = [
    [
      "crop left",
      () => cropRgba(img, { left: -1, top: 0, width: 1, height: 1 }),
      "Expected an integer between 0 and 2 for left but received -1",
    ],
    [
      "crop top",
      () => cropRgba(img, { left: 0, top: 2, width: 1, height: 1 }),
      "Expected an integer between 0 and 1 for top but received 2",
    ],
    [
      "crop width",
      () => cropRgba(img, { left: 0, top: 0, width: 0, height: 1 }),
      "Expected an integer between 1 and 3 for width but received 0",
    ],
    [
      "crop width past the edge",
      () => cropRgba(img, { left: 1, top: 0, width: 3, height: 1 }),
      "Expected an integer between 1 and 2 for width but received 3",
    ],
    [
      "crop height",
      () => cropRgba(img, { left: 0, top: 0, width: 1, height: 1.5 }),
      "Expected an integer between 1 and 2 for height but received 1.5",
    ],
    [
      "rotateRightAngle angle",
      () => rotateRightAngle(img, 45 as unknown as 90),
      "Expected one of 90, 180, 270 for angle but received 45",
    ],
    [
      "rotateRgba angle",
      () => rotateRgba(img, Number.NaN, [0, 0, 0, 0]),
      "Expected a finite number of degrees for angle but received NaN",
    ],
    [
      "rotateRgba background channel",
      () => rotateRgba(img, 30, [0, 0, 0, 256]),
      "Expected an integer between 0 and 255 for background[3] but received 256",
    ],
    [
      "rotateRgba background shape",
      () => rotateRgba(img, 30, [0, 0, 0] as unknown as [number, number, number, number]),
      "Expected [r, g, b, a] for background but received [0,0,0]",
    ],
    [
      "boxShrink factorX",
      () => resampler.shrink(img, 0, 1),
      "Expected an integer between 1 and 3 for factorX but received 0",
    ],
    [
      "boxShrink factorY",
      () => resampler.shrink(img, 1, 3),
      "Expected an integer between 1 and 2 for factorY but received 3",
    ],
    [
      "shrinkFactorsFor srcW",
      () => shrinkFactorsFor(0, 10, 1, 1),
      "Expected an integer between 1 and 9007199254740991 for srcW but received 0",
    ],
    [
      "shrinkFactorsFor srcH",
      () => shrinkFactorsFor(10, 2.5, 1, 1),
      "Expected an integer between 1 and 9007199254740991 for srcH but received 2.5",
    ],
    [
      "shrinkFactorsFor dstW",
      () => shrinkFactorsFor(10, 10, -4, 1),
      "Expected an integer between 1 and 9007199254740991 for dstW but received -4",
    ],
    [
      "shrinkFactorsFor dstH",
      () => shrinkFactorsFor(10, 10, 1, 0),
      "Expected an integer between 1 and 9007199254740991 for dstH but received 0",
    ],
    [
      "entropy width",
      () => entropyCropOffset(img, 4, 1),
      "Expected an integer between 1 and 3 for width but received 4",
    ],
    [
      "entropy height",
      () => entropyCropOffset(img, 1, 0),
      "Expected an integer between 1 and 2 for height but received 0",
    ],
    [
      "a malformed image",
      () => flipRgba({ data: new Uint8ClampedArray(20), width: 3, height: 2 }),
      "Expected an RGBA image with width × height × 4 bytes but received 3×2 with 20 bytes",
    ],
  ];
  test.each(cases)("%s", (_, run, message) => {
    expect(run).toThrow(RangeError);
    expect(run).toThrow(message);
  });
});
