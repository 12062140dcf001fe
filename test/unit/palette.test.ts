import { describe, expect, test } from "bun:test";
import { rgbToLab } from "../../src/core/analysis/histogram.ts";
import { paletteRgba } from "../../src/core/analysis/palette.ts";
import type { RgbaImage } from "../../src/core/imaging/raster.ts";

type Rgba = [number, number, number, number];

/** A 16×8 image: rows of `colour` in the given counts of pixels, in order. */
function imageOf(runs: [number, Rgba][], width = 16): RgbaImage {
  const pixels = runs.flatMap(([n, c]) => Array.from({ length: n }, () => c));
  return {
    data: new Uint8ClampedArray(pixels.flat()),
    width,
    height: pixels.length / width,
  };
}

const RED: Rgba = [230, 57, 70, 255];
const NAVY: Rgba = [29, 53, 87, 255];
const CREAM: Rgba = [241, 250, 238, 128];
// Transparent pixels of a fourth colour: not counted, so never in the palette.
const HIDDEN: Rgba = [0, 255, 0, 0];

// 64 red, 32 navy, 32 cream (half transparent, still counted), 32 transparent green.
const known = imageOf([
  [64, RED],
  [32, HIDDEN],
  [32, NAVY],
  [32, CREAM],
]);

const colour = (rgb: [number, number, number], pixels: number, share: number) => ({
  hex: `#${rgb.map((v) => v.toString(16).padStart(2, "0")).join("")}`,
  rgb,
  lab: rgbToLab(...rgb),
  pixels,
  share,
});

describe("paletteRgba", () => {
  test("three known colours come back exactly, with their shares, largest first", () => {
    const expected = {
      pixels: 128,
      colors: [
        colour([230, 57, 70], 64, 0.5),
        colour([29, 53, 87], 32, 0.25), // ties are ordered by hex: #1d3557 before #f1faee
        colour([241, 250, 238], 32, 0.25),
      ],
    };
    expect(paletteRgba(known, 5)).toEqual(expected);
    expect(paletteRgba(known, 3)).toEqual(expected);
    expect(paletteRgba(known, 16)).toEqual(expected);
  });

  test("fewer colours than the image has: clusters are the means of their pixels", () => {
    const two = paletteRgba(known, 2);
    // Median cut splits on R (the widest channel) at the weighted median, navy and red below,
    // cream above, and k-means keeps it so: each colour is nearest its own cluster's Lab centre.
    // (64 × 230 + 32 × 29) / 96 = 163, (64 × 57 + 32 × 53) / 96 = 55.67, (64 × 70 + 32 × 87) / 96 = 75.67.
    expect(two).toEqual({
      pixels: 128,
      colors: [colour([163, 56, 76], 96, 0.75), colour([241, 250, 238], 32, 0.25)],
    });
    // One colour: the mean of every counted pixel, (64 × 230 + 32 × 29 + 32 × 241) / 128 = 182.5.
    expect(paletteRgba(known, 1)).toEqual({
      pixels: 128,
      colors: [colour([183, 104, 116], 128, 1)],
    });
  });

  test("a photo-like gradient: exactly `colors` colours, shares summing to 1, deterministic", () => {
    const width = 96;
    const height = 64;
    const data = new Uint8ClampedArray(width * height * 4);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        data.set(
          [(x * 255) / width, (y * 255) / height, ((x + y) * 97) % 256, 255],
          (y * width + x) * 4,
        );
      }
    }
    const img = { data, width, height };
    const before = data.slice();
    for (const k of [1, 4, 8, 16]) {
      const p = paletteRgba(img, k);
      expect(p.pixels).toBe(width * height);
      expect(p.colors).toHaveLength(k);
      expect(p.colors.reduce((n, c) => n + c.pixels, 0)).toBe(width * height);
      expect(p.colors.reduce((s, c) => s + c.share, 0)).toBeCloseTo(1, 12);
      const shares = p.colors.map((c) => c.share);
      expect(shares).toEqual([...shares].sort((a, b) => b - a));
      expect(paletteRgba(img, k)).toEqual(p);
    }
    expect(data).toEqual(before);
  });

  test("an image with no opaque pixel has an empty palette", () => {
    expect(paletteRgba(imageOf([[16, HIDDEN]]), 5)).toEqual({ pixels: 0, colors: [] });
  });

  test("colors outside 1–16 is refused, naming the parameter, range and value", () => {
    for (const bad of [0, 17, 2.5, -1]) {
      expect(() => paletteRgba(known, bad)).toThrow(
        `Expected an integer between 1 and 16 for colors but received ${bad}`,
      );
    }
  });
});
