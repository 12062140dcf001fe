import { expectInteger } from "../imaging/kernels/validate.ts";
import type { RgbaImage } from "../imaging/raster.ts";

export const COLOUR_SPACES = ["rgb", "luma", "hsv", "lab"] as const;
export type ColourSpace = (typeof COLOUR_SPACES)[number];

type Channel = { name: string; min: number; max: number; integer: boolean };

/**
 * The channels of each space and their ranges. RGB and luma are the stored 8-bit levels; luma is
 * Rec. 709 (0.2126 R + 0.7152 G + 0.0722 B) on those gamma-encoded values, rounded to a level.
 * HSV: hue in degrees, saturation and value 0–1. Lab: CIE L*a*b* from sRGB with a D65 white.
 */
export const CHANNELS: Record<ColourSpace, readonly Channel[]> = {
  rgb: [
    { name: "r", min: 0, max: 256, integer: true },
    { name: "g", min: 0, max: 256, integer: true },
    { name: "b", min: 0, max: 256, integer: true },
  ],
  luma: [{ name: "y", min: 0, max: 256, integer: true }],
  hsv: [
    { name: "h", min: 0, max: 360, integer: false },
    { name: "s", min: 0, max: 1, integer: false },
    { name: "v", min: 0, max: 1, integer: false },
  ],
  lab: [
    { name: "l", min: 0, max: 100, integer: false },
    { name: "a", min: -128, max: 128, integer: false },
    { name: "b", min: -128, max: 128, integer: false },
  ],
};

export type ChannelStats = {
  name: string;
  /** bins + 1 edges: bin i holds values in [edges[i], edges[i + 1]). */
  edges: number[];
  counts: number[];
  min: number;
  max: number;
  mean: number;
  median: number;
  stddev: number;
  p1: number;
  p5: number;
  p95: number;
  p99: number;
  /** Shannon entropy of `counts`, in bits. */
  entropy: number;
};

export type Histogram = {
  space: ColourSpace;
  bins: number;
  /** Pixels counted: alpha 0 and (with a mask) unmasked pixels are not. */
  pixels: number;
  channels: ChannelStats[];
};

/** Rec. 709 luma of 8-bit R, G, B, rounded to a level, in exact integer arithmetic. */
export const luma709 = (r: number, g: number, b: number) =>
  Math.floor((2126 * r + 7152 * g + 722 * b + 5000) / 10000);

/**
 * HSV of 8-bit RGB: hue in degrees [0, 360) (0 for greys), saturation and value in [0, 1].
 *
 * @example
 * rgbToHsv(255, 128, 0); // [30.1…, 1, 1]
 */
export function rgbToHsv(r: number, g: number, b: number): [number, number, number] {
  const out = new Float64Array(3);
  hsvInto(r, g, b, out);
  return [out[0] as number, out[1] as number, out[2] as number];
}

function hsvInto(r: number, g: number, b: number, out: Float64Array): void {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const d = max - min;
  let h = 0;
  if (d > 0) {
    if (max === r) h = 60 * (((g - b) / d + 6) % 6);
    else if (max === g) h = 60 * ((b - r) / d + 2);
    else h = 60 * ((r - g) / d + 4);
  }
  out[0] = h;
  out[1] = max === 0 ? 0 : d / max;
  out[2] = max / 255;
}

// sRGB decoding (IEC 61966-2-1) of each 8-bit level, once.
const LINEAR = Float64Array.from({ length: 256 }, (_, i) => {
  const c = i / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
});
const WHITE = [0.95047, 1, 1.08883]; // D65
const labF = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);

/**
 * CIE L*a*b* (D65) of 8-bit sRGB.
 *
 * @example
 * rgbToLab(255, 0, 0); // [53.24…, 80.09…, 67.20…]
 */
export function rgbToLab(r: number, g: number, b: number): [number, number, number] {
  const out = new Float64Array(3);
  labInto(r, g, b, out);
  return [out[0] as number, out[1] as number, out[2] as number];
}

/**
 * CIE L*a*b* (D65) of 8-bit sRGB into `out[0…2]`: rgbToLab without allocating, for pixel loops.
 *
 * @example
 * labInto(255, 0, 0, out); // out: [53.24…, 80.09…, 67.20…]
 */
export function labInto(r: number, g: number, b: number, out: Float64Array): void {
  const lr = LINEAR[r] as number;
  const lg = LINEAR[g] as number;
  const lb = LINEAR[b] as number;
  const fx = labF((0.4124564 * lr + 0.3575761 * lg + 0.1804375 * lb) / (WHITE[0] as number));
  const fy = labF(0.2126729 * lr + 0.7151522 * lg + 0.072175 * lb);
  const fz = labF((0.0193339 * lr + 0.119192 * lg + 0.9503041 * lb) / (WHITE[2] as number));
  out[0] = 116 * fy - 16;
  out[1] = 500 * (fx - fy);
  out[2] = 200 * (fy - fz);
}

// Continuous channels keep a fine histogram for the median and percentiles: each is then exact to
// within (max - min) / 4096 (HSV hue: 0.09°; Lab L: 0.025), while mean, stddev, min and max are exact.
const FINE = 4096;

/** What one pass over the pixels gathers per channel; the statistics follow from it. */
type Tally = {
  fine: Float64Array;
  coarse: Float64Array;
  sum: number;
  sumSq: number;
  lo: number;
  hi: number;
};

const newTally = (fine: number, bins: number): Tally => ({
  fine: new Float64Array(fine),
  coarse: new Float64Array(bins),
  sum: 0,
  sumSq: 0,
  lo: Number.POSITIVE_INFINITY,
  hi: Number.NEGATIVE_INFINITY,
});

/**
 * Histogram and statistics of an RGBA image in a colour space, over `bins` equal bins per channel.
 * Pixels with alpha 0 are not counted, nor, when `mask` is given, pixels whose mask byte is 0.
 * Does not mutate its inputs.
 *
 * @example
 * const h = histogramRgba(img, "luma", 256);
 * h.channels[0].counts.reduce((a, b) => a + b) === h.pixels; // true
 */
export function histogramRgba(
  img: RgbaImage,
  space: ColourSpace,
  bins: number,
  mask?: Uint8Array,
): Histogram {
  expectInteger("bins", bins, 1, 256);
  if (mask && mask.length !== img.width * img.height) {
    throw new RangeError(
      `Expected a mask of ${img.width * img.height} bytes but received ${mask.length}`,
    );
  }
  const channels = CHANNELS[space];
  const { tallies, pixels } =
    space === "rgb" || space === "luma"
      ? tallyLevels(img, space, bins, mask)
      : tallyContinuous(img, space, bins, mask);
  return {
    space,
    bins,
    pixels,
    channels: channels.map((ch, c) => statsOf(ch, tallies[c] as Tally, bins, pixels)),
  };
}

/**
 * RGB and luma are 8-bit levels: count levels only (the fast path: a few increments per pixel),
 * and derive bins, sums and extremes exactly from the 256 counts.
 */
function tallyLevels(img: RgbaImage, space: "rgb" | "luma", bins: number, mask?: Uint8Array) {
  const d = img.data;
  const n = space === "rgb" ? 3 : 1;
  const levels = Array.from({ length: n }, () => new Uint32Array(256));
  const [lr, lg, lb] = levels as [Uint32Array, Uint32Array?, Uint32Array?];
  let pixels = 0;
  for (let p = 0, i = 0; i < d.length; p++, i += 4) {
    if (d[i + 3] === 0 || (mask && mask[p] === 0)) continue;
    pixels++;
    if (n === 3) {
      const r = d[i] as number;
      const g = d[i + 1] as number;
      const b = d[i + 2] as number;
      lr[r] = (lr[r] as number) + 1;
      (lg as Uint32Array)[g] = ((lg as Uint32Array)[g] as number) + 1;
      (lb as Uint32Array)[b] = ((lb as Uint32Array)[b] as number) + 1;
    } else {
      const y = luma709(d[i] as number, d[i + 1] as number, d[i + 2] as number);
      lr[y] = (lr[y] as number) + 1;
    }
  }
  const tallies = levels.map((counts) => {
    const t = newTally(256, bins);
    for (let v = 0; v < 256; v++) {
      const k = counts[v] as number;
      if (k === 0) continue;
      t.fine[v] = k;
      const bin = Math.floor((v * bins) / 256);
      t.coarse[bin] = (t.coarse[bin] as number) + k;
      t.sum += v * k;
      t.sumSq += v * v * k;
      if (v < t.lo) t.lo = v;
      t.hi = v;
    }
    return t;
  });
  return { tallies, pixels };
}

function tallyContinuous(img: RgbaImage, space: "hsv" | "lab", bins: number, mask?: Uint8Array) {
  const channels = CHANNELS[space];
  const tallies = channels.map(() => newTally(FINE, bins));
  const d = img.data;
  const convert = space === "hsv" ? hsvInto : labInto;
  const v = new Float64Array(3);
  // Per channel, hoisted out of the pixel loop: offset and scales to fine and coarse bin indices.
  const offset = channels.map((ch) => ch.min);
  const toFine = channels.map((ch) => FINE / (ch.max - ch.min));
  const toCoarse = channels.map((ch) => bins / (ch.max - ch.min));
  let pixels = 0;
  for (let p = 0, i = 0; i < d.length; p++, i += 4) {
    if (d[i + 3] === 0 || (mask && mask[p] === 0)) continue;
    pixels++;
    convert(d[i] as number, d[i + 1] as number, d[i + 2] as number, v);
    for (let c = 0; c < 3; c++) {
      const x = v[c] as number;
      const t = tallies[c] as Tally;
      const u = x - (offset[c] as number);
      let f = Math.floor(u * (toFine[c] as number));
      f = f < 0 ? 0 : f >= FINE ? FINE - 1 : f;
      t.fine[f] = (t.fine[f] as number) + 1;
      let k = Math.floor(u * (toCoarse[c] as number));
      k = k < 0 ? 0 : k >= bins ? bins - 1 : k;
      t.coarse[k] = (t.coarse[k] as number) + 1;
      t.sum += x;
      t.sumSq += x * x;
      if (x < t.lo) t.lo = x;
      if (x > t.hi) t.hi = x;
    }
  }
  return { tallies, pixels };
}

function statsOf(ch: Channel, t: Tally, bins: number, pixels: number): ChannelStats {
  const width = (ch.max - ch.min) / t.fine.length;
  // Nearest-rank percentile: the smallest level with at least p % of the pixels at or below it.
  const percentile = (p: number) => {
    if (pixels === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * pixels));
    let seen = 0;
    for (let k = 0; k < t.fine.length; k++) {
      seen += t.fine[k] as number;
      if (seen >= rank) return ch.integer ? k : ch.min + (k + 0.5) * width;
    }
    return ch.max;
  };
  const counts = Array.from(t.coarse);
  const mean = pixels ? t.sum / pixels : 0;
  let entropy = 0;
  for (const count of counts) {
    if (count > 0) entropy -= (count / pixels) * Math.log2(count / pixels);
  }
  return {
    name: ch.name,
    edges: Array.from({ length: bins + 1 }, (_, i) => ch.min + ((ch.max - ch.min) * i) / bins),
    counts,
    min: pixels ? t.lo : 0,
    max: pixels ? t.hi : 0,
    mean,
    median: percentile(50),
    stddev: pixels ? Math.sqrt(Math.max(0, t.sumSq / pixels - mean * mean)) : 0,
    p1: percentile(1),
    p5: percentile(5),
    p95: percentile(95),
    p99: percentile(99),
    entropy,
  };
}
