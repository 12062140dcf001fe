/**
 * Peak signal-to-noise ratio of two RGBA buffers over R, G and B (alpha ignored), in dB;
 * Infinity when they are equal. Buffers of different lengths are a test's mistake: it throws.
 */
export function psnr(a: Uint8Array | Uint8ClampedArray, b: Uint8Array | Uint8ClampedArray): number {
  if (a.length !== b.length) throw new Error(`psnr of ${a.length} and ${b.length} values`);
  let sum = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    if (i % 4 === 3) continue;
    const d = (a[i] as number) - (b[i] as number);
    sum += d * d;
    n++;
  }
  return sum === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((255 * 255) / (sum / n));
}
