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

/**
 * One axis of a separable resampling: for each output position, its first source index, how many
 * source samples it weighs, and their normalised weights (`taps` slots per position). The
 * convolution itself runs in wasm (src/core/imaging/resampler.ts).
 *
 * @example
 * resampleWeights(960, 800, "lanczos3"); // 800 positions of up to 9 taps
 */
export function resampleWeights(inSize: number, outSize: number, filter: ResampleFilter) {
  const { support, weight } = FILTERS[filter];
  const scale = inSize / outSize;
  // Downscaling stretches the filter over the source (an antialiasing low-pass).
  const stretch = Math.max(1, scale);
  const radius = support * stretch;
  const starts = new Int32Array(outSize);
  const counts = new Int32Array(outSize);
  const taps = Math.ceil(radius) * 2 + 1;
  const weights = new Float32Array(outSize * taps);
  const raw = new Float64Array(taps);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale - 0.5;
    const first = Math.max(0, Math.ceil(center - radius));
    const last = Math.min(inSize - 1, Math.floor(center + radius));
    // Each weight evaluated once (four Math.sin for lanczos3: most of this function's time).
    let sum = 0;
    for (let i = first; i <= last; i++) {
      const w = weight((i - center) / stretch);
      raw[i - first] = w;
      sum += w;
    }
    starts[o] = first;
    counts[o] = last - first + 1;
    for (let k = 0; k <= last - first; k++) {
      weights[o * taps + k] = sum === 0 ? 1 / (last - first + 1) : (raw[k] as number) / sum;
    }
  }
  return { starts, counts, weights, taps };
}
