import { luma709 } from "../../analysis/histogram.ts";
import { expectRgba } from "../../imaging/kernels/validate.ts";
import type { RgbaImage } from "../../imaging/raster.ts";

/**
 * The Rec. 709 luma of each pixel, 0–255: the levels the luma histogram counts, so thresholds
 * chosen here read on that histogram's scale. Alpha is ignored. Does not mutate `img`.
 *
 * @example
 * lumaOf({ data: new Uint8ClampedArray([255, 0, 0, 255]), width: 1, height: 1 }); // Uint8Array [54]
 */
export function lumaOf(img: RgbaImage): Uint8Array {
  expectRgba(img);
  const d = img.data;
  const out = new Uint8Array(img.width * img.height);
  for (let p = 0, i = 0; p < out.length; p++, i += 4) {
    out[p] = luma709(d[i] as number, d[i + 1] as number, d[i + 2] as number);
  }
  return out;
}

const CHANNEL_OFFSET = { r: 0, g: 1, b: 2 } as const;

/**
 * One colour channel of each pixel, 0–255. Does not mutate `img`.
 *
 * @example
 * channelOf({ data: new Uint8ClampedArray([255, 128, 0, 255]), width: 1, height: 1 }, "g"); // [128]
 */
export function channelOf(img: RgbaImage, channel: "r" | "g" | "b"): Uint8Array {
  expectRgba(img);
  const offset = CHANNEL_OFFSET[channel];
  if (offset === undefined) {
    throw new RangeError(`Expected one of r, g, b for channel but received ${channel}`);
  }
  const d = img.data;
  const out = new Uint8Array(img.width * img.height);
  for (let p = 0, i = offset; p < out.length; p++, i += 4) out[p] = d[i] as number;
  return out;
}

/**
 * How many values there are of each level 0–255.
 *
 * @example
 * levelCounts(new Uint8Array([0, 0, 255]))[0]; // 2
 */
export function levelCounts(values: Uint8Array): Float64Array {
  // Uint32 increments run faster than Float64 ones; the sums below want doubles.
  const counts = new Uint32Array(256);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    counts[v] = (counts[v] as number) + 1;
  }
  return Float64Array.from(counts);
}
