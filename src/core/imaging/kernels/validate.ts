import { rangeMessage } from "../../lib/parameter-messages.ts";
import type { RgbaImage } from "../raster.ts";

/**
 * Throws a sharp-worded RangeError unless `value` is an integer in [`min`, `max`].
 *
 * @example
 * expectInteger("width", 0, 1, 4000);
 * // RangeError: Expected an integer between 1 and 4000 for width but received 0
 */
export function expectInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(rangeMessage("integer", name, min, max, value));
  }
}

/**
 * Throws a RangeError unless `img` has positive integer sides and exactly 4 bytes per pixel, so
 * that the kernels' unchecked index arithmetic stays inside `data`.
 *
 * @example
 * expectRgba({ data: new Uint8ClampedArray(20), width: 3, height: 2 });
 * // RangeError: Expected an RGBA image with width × height × 4 bytes but received 3×2 with 20 bytes
 */
export function expectRgba(img: RgbaImage): void {
  const { width, height, data } = img;
  const ok =
    Number.isInteger(width) &&
    width >= 1 &&
    Number.isInteger(height) &&
    height >= 1 &&
    data.length === width * height * 4;
  if (!ok) {
    throw new RangeError(
      `Expected an RGBA image with width × height × 4 bytes but received ${width}×${height} with ${data.length} bytes`,
    );
  }
}
