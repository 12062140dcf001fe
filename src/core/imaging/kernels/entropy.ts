import type { RgbaImage } from "../raster.ts";
import { luma709 } from "./colour.ts";
import { expectInteger, expectRgba } from "./validate.ts";

/**
 * Where to put a `width`×`height` window so that it keeps the busiest part of the image, like
 * sharp's `position: "entropy"` (libvips `smartcrop` with `interesting=entropy`): slices are cut
 * off whichever of left/right, then top/bottom, has the lower entropy of its Rec. 709 luma
 * histogram, the slices sized for about eight steps on the axis that loses most, until the
 * window is reached. Ties cut the right or bottom slice, as libvips does. Alpha is ignored. Does
 * not mutate `img`.
 *
 * @example
 * entropyCropOffset(flatLeftNoisyRight200x100, 100, 100); // { left: 100, top: 0 }
 */
export function entropyCropOffset(
  img: RgbaImage,
  width: number,
  height: number,
): { left: number; top: number } {
  expectRgba(img);
  expectInteger("width", width, 1, img.width);
  expectInteger("height", height, 1, img.height);
  const stride = img.width;
  const src = img.data;
  const lumas = new Uint8Array(stride * img.height);
  for (let i = 0, s = 0; i < lumas.length; i++, s += 4) {
    lumas[i] = luma709(src[s] as number, src[s + 1] as number, src[s + 2] as number);
  }
  const hist = new Uint32Array(256);
  const entropy = (left: number, top: number, w: number, h: number): number => {
    hist.fill(0);
    for (let y = top; y < top + h; y++) {
      for (let i = y * stride + left, end = i + w; i < end; i++) {
        const v = lumas[i] as number;
        hist[v] = (hist[v] as number) + 1;
      }
    }
    const total = w * h;
    let e = 0;
    for (const count of hist) {
      if (count > 0) e -= (count / total) * Math.log2(count / total);
    }
    return e;
  };

  let left = 0;
  let top = 0;
  let w = img.width;
  let h = img.height;
  const maxSlice = Math.max(Math.ceil((w - width) / 8), Math.ceil((h - height) / 8));
  while (w > width || h > height) {
    const sliceW = Math.min(w - width, maxSlice);
    if (sliceW > 0) {
      const leftScore = entropy(left, top, sliceW, h);
      const rightScore = entropy(left + w - sliceW, top, sliceW, h);
      w -= sliceW;
      if (leftScore < rightScore) left += sliceW;
    }
    const sliceH = Math.min(h - height, maxSlice);
    if (sliceH > 0) {
      const topScore = entropy(left, top, w, sliceH);
      const bottomScore = entropy(left, top + h - sliceH, w, sliceH);
      h -= sliceH;
      if (topScore < bottomScore) top += sliceH;
    }
  }
  return { left, top };
}
