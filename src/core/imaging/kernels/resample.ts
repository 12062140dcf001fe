import type { RgbaImage } from "../raster.ts";

export type ResampleFilter = "lanczos3" | "mitchell" | "catrom" | "triangle";

const sinc = (x: number) => (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x));

/** Mitchell–Netravali cubics (B, C): Mitchell is (1/3, 1/3), Catmull-Rom (0, 1/2). */
function cubic(b: number, c: number) {
  return (t: number) => {
    const x = Math.abs(t);
    if (x < 1)
      return ((12 - 9 * b - 6 * c) * x ** 3 + (-18 + 12 * b + 6 * c) * x ** 2 + 6 - 2 * b) / 6;
    if (x < 2) {
      return (
        ((-b - 6 * c) * x ** 3 +
          (6 * b + 30 * c) * x ** 2 +
          (-12 * b - 48 * c) * x +
          8 * b +
          24 * c) /
        6
      );
    }
    return 0;
  };
}

const FILTERS: Record<ResampleFilter, { support: number; weight: (x: number) => number }> = {
  lanczos3: { support: 3, weight: (x) => (Math.abs(x) < 3 ? sinc(x) * sinc(x / 3) : 0) },
  mitchell: { support: 2, weight: cubic(1 / 3, 1 / 3) },
  catrom: { support: 2, weight: cubic(0, 0.5) },
  triangle: { support: 1, weight: (x) => Math.max(0, 1 - Math.abs(x)) },
};

/** For each output position: its first source index and normalised weights. */
function contributions(inSize: number, outSize: number, filter: ResampleFilter) {
  const { support, weight } = FILTERS[filter];
  const scale = inSize / outSize;
  // Downscaling stretches the filter over the source (an antialiasing low-pass).
  const stretch = Math.max(1, scale);
  const radius = support * stretch;
  const starts = new Int32Array(outSize);
  const counts = new Int32Array(outSize);
  const taps = Math.ceil(radius) * 2 + 1;
  const weights = new Float32Array(outSize * taps);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale - 0.5;
    const first = Math.max(0, Math.ceil(center - radius));
    const last = Math.min(inSize - 1, Math.floor(center + radius));
    let sum = 0;
    for (let i = first; i <= last; i++) sum += weight((i - center) / stretch);
    starts[o] = first;
    counts[o] = last - first + 1;
    for (let i = first; i <= last; i++) {
      weights[o * taps + i - first] =
        sum === 0 ? 1 / (last - first + 1) : weight((i - center) / stretch) / sum;
    }
  }
  return { starts, counts, weights, taps };
}

/**
 * Separable resampling of RGBA in JavaScript (premultiplied alpha, sRGB values), as jSquash's
 * resizer does it but in the JavaScript heap: that wasm resizer keeps its peak (125 MiB to
 * resample 2310×1299 to 1600×900) for good, which an edge isolate cannot afford. Holds one
 * float intermediate of the output width × the input height. Does not mutate `img`.
 *
 * @example
 * resampleRgba(img2000x1000, 400, 200, "lanczos3"); // a 400×200 image
 */
export function resampleRgba(
  img: RgbaImage,
  width: number,
  height: number,
  filter: ResampleFilter,
): RgbaImage {
  const { data: src, width: inW, height: inH } = img;
  const h = contributions(inW, width, filter);
  const v = contributions(inH, height, filter);
  // Horizontal pass over premultiplied samples into floats.
  const mid = new Float32Array(width * inH * 4);
  for (let y = 0; y < inH; y++) {
    const row = y * inW * 4;
    for (let x = 0; x < width; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      const start = h.starts[x] as number;
      const base = x * h.taps;
      for (let k = 0, n = h.counts[x] as number; k < n; k++) {
        const w = h.weights[base + k] as number;
        const s = row + (start + k) * 4;
        const alpha = (src[s + 3] as number) * w;
        r += (src[s] as number) * alpha;
        g += (src[s + 1] as number) * alpha;
        b += (src[s + 2] as number) * alpha;
        a += alpha;
      }
      const o = (y * width + x) * 4;
      mid[o] = r / 255;
      mid[o + 1] = g / 255;
      mid[o + 2] = b / 255;
      mid[o + 3] = a;
    }
  }
  const out = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    const start = v.starts[y] as number;
    const base = y * v.taps;
    const n = v.counts[y] as number;
    for (let x = 0; x < width; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let k = 0; k < n; k++) {
        const w = v.weights[base + k] as number;
        const s = ((start + k) * width + x) * 4;
        r += (mid[s] as number) * w;
        g += (mid[s + 1] as number) * w;
        b += (mid[s + 2] as number) * w;
        a += (mid[s + 3] as number) * w;
      }
      const o = (y * width + x) * 4;
      // Unpremultiply; the clamped array rounds and clips the filters' overshoot.
      const alpha = Math.min(255, Math.max(0, a));
      const scale = alpha > 0 ? 255 / alpha : 0;
      out[o] = r * scale;
      out[o + 1] = g * scale;
      out[o + 2] = b * scale;
      out[o + 3] = alpha;
    }
  }
  return { data: out, width, height };
}
