/**
 * An RGBA raster: 4 bytes per pixel (red, green, blue, alpha; not premultiplied), rows top to
 * bottom with no padding, so `data.length === width * height * 4`. The shape of the DOM's
 * ImageData and of what jSquash codecs take and return, without needing an ImageData global.
 */
export type RgbaImage = { data: Uint8ClampedArray; width: number; height: number };

/**
 * A new, zero-filled (transparent black) raster.
 *
 * @example
 * const blank = createRgba(2, 1); // blank.data.length === 8
 */
export function createRgba(width: number, height: number): RgbaImage {
  return { data: new Uint8ClampedArray(width * height * 4), width, height };
}
