import { describe, expect, test } from "bun:test";
import { histogramRgba, luma709, rgbToHsv, rgbToLab } from "../../src/core/analysis/histogram.ts";
import type { RgbaImage } from "../../src/core/imaging/raster.ts";

const imageOf = (pixels: [number, number, number, number][]): RgbaImage => ({
  data: new Uint8ClampedArray(pixels.flat()),
  width: pixels.length,
  height: 1,
});

const repeat = <T>(n: number, v: T): T[] => Array.from({ length: n }, () => v);

// 10 red, 20 green, 30 blue, 5 fully transparent (not counted).
const known = imageOf([
  ...repeat(10, [255, 0, 0, 255] as [number, number, number, number]),
  ...repeat(20, [0, 255, 0, 255] as [number, number, number, number]),
  ...repeat(30, [0, 0, 255, 128] as [number, number, number, number]),
  ...repeat(5, [255, 255, 255, 0] as [number, number, number, number]),
]);

describe("colour conversions against reference values", () => {
  test("Lab (D65) of primaries, white, black and mid grey", () => {
    const cases: [[number, number, number], [number, number, number]][] = [
      [
        [255, 0, 0],
        [53.2408, 80.0925, 67.2032],
      ],
      [
        [0, 255, 0],
        [87.7347, -86.1827, 83.1793],
      ],
      [
        [0, 0, 255],
        [32.297, 79.1875, -107.8602],
      ],
      [
        [255, 255, 255],
        [100, 0, 0],
      ],
      [
        [0, 0, 0],
        [0, 0, 0],
      ],
      [
        [128, 128, 128],
        [53.585, 0, 0],
      ],
    ];
    for (const [rgb, lab] of cases) {
      const got = rgbToLab(...rgb);
      for (let i = 0; i < 3; i++)
        expect(Math.abs((got[i] as number) - (lab[i] as number))).toBeLessThan(0.01);
    }
  });

  test("HSV and Rec. 709 luma", () => {
    expect(rgbToHsv(255, 128, 0).map((v) => Number(v.toFixed(4)))).toEqual([30.1176, 1, 1]);
    expect(rgbToHsv(0, 255, 255)).toEqual([180, 1, 1]);
    expect(rgbToHsv(128, 128, 128)).toEqual([0, 0, 128 / 255]);
    expect(rgbToHsv(0, 0, 0)).toEqual([0, 0, 0]);
    expect([
      luma709(255, 0, 0),
      luma709(0, 255, 0),
      luma709(0, 0, 255),
      luma709(255, 255, 255),
    ]).toEqual([54, 182, 18, 255]);
  });
});

describe("histogramRgba", () => {
  test("every bin is exact on an image of known colours; alpha 0 is not counted", () => {
    const rgb = histogramRgba(known, "rgb", 256);
    expect(rgb.pixels).toBe(60);
    const [r, g, b] = rgb.channels;
    expect([
      r?.counts[255],
      r?.counts[0],
      g?.counts[255],
      g?.counts[0],
      b?.counts[255],
      b?.counts[0],
    ]).toEqual([10, 50, 20, 40, 30, 30]);
    const luma = histogramRgba(known, "luma", 256).channels[0];
    expect([luma?.counts[54], luma?.counts[182], luma?.counts[18]]).toEqual([10, 20, 30]);
    const hsv = histogramRgba(known, "hsv", 6).channels[0]; // 60° bins: red 0, green 120, blue 240
    expect(hsv?.counts).toEqual([10, 0, 20, 0, 30, 0]);
    expect(hsv?.edges).toEqual([0, 60, 120, 180, 240, 300, 360]);
  });

  test("counts sum to the pixel count in every space and bin count", () => {
    const noise = new Uint8ClampedArray(4 * 5000);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
    const img = { data: noise, width: 100, height: 50 };
    for (const space of ["rgb", "luma", "hsv", "lab"] as const) {
      for (const bins of [1, 7, 64, 256]) {
        const h = histogramRgba(img, space, bins);
        for (const ch of h.channels) {
          expect([space, bins, ch.name, ch.counts.reduce((a, c) => a + c, 0)]).toEqual([
            space,
            bins,
            ch.name,
            h.pixels,
          ]);
          expect(ch.edges).toHaveLength(bins + 1);
        }
      }
    }
  });

  test("statistics: min, max, mean, median, stddev, percentiles, entropy", () => {
    const img = imageOf(
      Array.from({ length: 100 }, (_, i) => [i, 0, 0, 255] as [number, number, number, number]),
    );
    const r = histogramRgba(img, "rgb", 256).channels[0];
    expect(r).toMatchObject({
      min: 0,
      max: 99,
      mean: 49.5,
      median: 49,
      p1: 0,
      p5: 4,
      p95: 94,
      p99: 98,
    });
    expect(r?.stddev).toBeCloseTo(Math.sqrt((100 * 100 - 1) / 12), 9);
    expect(r?.entropy).toBeCloseTo(Math.log2(100), 9);
    expect(histogramRgba(img, "rgb", 1).channels[0]?.entropy).toBe(0);
  });

  test("a mask limits the pixels counted", () => {
    const mask = new Uint8Array(known.width);
    mask.fill(1, 0, 10); // the red ones
    const h = histogramRgba(known, "rgb", 2, mask);
    expect(h.pixels).toBe(10);
    expect(h.channels[0]?.counts).toEqual([0, 10]);
  });

  test("bad parameters are refused in sharp's words", () => {
    expect(() => histogramRgba(known, "rgb", 0)).toThrow(
      "Expected an integer between 1 and 256 for bins but received 0",
    );
    expect(() => histogramRgba(known, "rgb", 8, new Uint8Array(3))).toThrow(
      "Expected a mask of 65 bytes",
    );
  });
});
