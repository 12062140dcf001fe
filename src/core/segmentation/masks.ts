import { expectInteger, expectRgba } from "../imaging/kernels/validate.ts";
import type { RgbaImage } from "../imaging/raster.ts";

/*
 * Pictures of label maps (0 = background, 1…count regions, row-major like the image): grey
 * masks for PNG, and RGBA views of the regions on the image. None mutates its inputs.
 */

/**
 * 255 where a pixel has any region, 0 on the background: an 8-bit mask for a grey PNG.
 *
 * @example
 * binaryMaskGrey(new Uint32Array([0, 1, 2])); // Uint8Array [0, 255, 255]
 */
export function binaryMaskGrey(labels: Uint32Array): Uint8Array {
  const out = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) out[i] = labels[i] === 0 ? 0 : 255;
  return out;
}

/**
 * The label numbers as grey levels: 8-bit samples when there are at most 255 regions, 16-bit up to
 * 65535 (more cannot be told apart in a PNG sample).
 *
 * @example
 * labelsGrey(new Uint32Array([0, 1, 2]), 2); // Uint8Array [0, 1, 2]
 * labelsGrey(labels, 300); // a Uint16Array
 */
export function labelsGrey(labels: Uint32Array, count: number): Uint8Array | Uint16Array {
  expectInteger("count", count, 0, 65535);
  const out = count <= 255 ? new Uint8Array(labels.length) : new Uint16Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i] as number;
    if (l > count) throw new RangeError(`Expected labels up to ${count} but received ${l}`);
    out[i] = l;
  }
  return out;
}

/** Distinct, saturated colours, one per label: hues a golden angle apart. */
function regionColours(count: number): Uint8Array {
  const out = new Uint8Array(3 * (count + 1));
  for (let l = 1; l <= count; l++) {
    const h = ((l - 1) * 137.508) % 360;
    // HSV with saturation 0.8 and value 1 to 8-bit RGB.
    const f = (k: number) => {
      const m = (k + h / 60) % 6;
      return Math.round(255 * (1 - 0.8 * Math.max(0, Math.min(m, 4 - m, 1))));
    };
    out.set([f(5), f(3), f(1)], 3 * l);
  }
  return out;
}

function expectLabelsFor(img: RgbaImage, labels: Uint32Array): void {
  expectRgba(img);
  if (labels.length !== img.width * img.height) {
    throw new RangeError(
      `Expected ${img.width * img.height} labels for a ${img.width}×${img.height} image but received ${labels.length}`,
    );
  }
}

/** How much of a region's colour is laid over the image inside the region. */
const FILL_OPACITY = 0.45;

/**
 * The image with each region tinted in a colour of its own (45 % over the pixels) and outlined
 * with a 1-pixel opaque line in that colour where it meets another label; the background is left
 * as it was.
 *
 * @example
 * const out = overlayRgba(img, labels, count); // encode as PNG to show the regions
 */
export function overlayRgba(img: RgbaImage, labels: Uint32Array, count: number): RgbaImage {
  expectLabelsFor(img, labels);
  const { width, height } = img;
  const colours = regionColours(count);
  const src = img.data;
  const out = new Uint8ClampedArray(src);
  for (let y = 0; y < height; y++) {
    for (let x = 0, p = y * width; x < width; x++, p++) {
      const l = labels[p] as number;
      if (l === 0) continue;
      if (l > count) throw new RangeError(`Expected labels up to ${count} but received ${l}`);
      const edge =
        (x > 0 && labels[p - 1] !== l) ||
        (x + 1 < width && labels[p + 1] !== l) ||
        (y > 0 && labels[p - width] !== l) ||
        (y + 1 < height && labels[p + width] !== l);
      const i = 4 * p;
      // Uint8ClampedArray rounds what it stores to the nearest integer.
      for (let c = 0; c < 3; c++) {
        const colour = colours[3 * l + c] as number;
        out[i + c] = edge
          ? colour
          : (src[i + c] as number) * (1 - FILL_OPACITY) + colour * FILL_OPACITY;
      }
      if (edge) out[i + 3] = 255;
    }
  }
  return { data: out, width, height };
}

/**
 * The image where there is a region, fully transparent (and black) on the background: the
 * regions cut out.
 *
 * @example
 * cutoutRgba(img, labels); // alpha 0 wherever labels[i] === 0
 */
export function cutoutRgba(img: RgbaImage, labels: Uint32Array): RgbaImage {
  expectLabelsFor(img, labels);
  const out = new Uint8ClampedArray(img.data);
  for (let p = 0; p < labels.length; p++) {
    if (labels[p] === 0) out.fill(0, 4 * p, 4 * p + 4);
  }
  return { data: out, width: img.width, height: img.height };
}
