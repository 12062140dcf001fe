import type { RgbaImage } from "../raster.ts";
import { expectInteger, expectRgba } from "./validate.ts";

// A Uint32Array view moves a whole pixel per read and write. Views need 4-byte alignment, which a
// subarray of a larger buffer may lack; byte order does not matter to a permutation.
function pixelsOf(data: Uint8ClampedArray): Uint32Array {
  const aligned = data.byteOffset % 4 === 0 ? data : data.slice();
  return new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.length >> 2);
}

const fromPixels = (pixels: Uint32Array, width: number, height: number): RgbaImage => ({
  data: new Uint8ClampedArray(pixels.buffer),
  width,
  height,
});

/**
 * The `width`×`height` box at (`left`, `top`), which must lie inside the image (sharp's
 * `extract`). Does not mutate `img`.
 *
 * @example
 * cropRgba(img4000x3000, { left: 100, top: 50, width: 800, height: 600 }); // an 800×600 image
 */
export function cropRgba(
  img: RgbaImage,
  box: { left: number; top: number; width: number; height: number },
): RgbaImage {
  expectRgba(img);
  const { left, top, width, height } = box;
  expectInteger("left", left, 0, img.width - 1);
  expectInteger("top", top, 0, img.height - 1);
  expectInteger("width", width, 1, img.width - left);
  expectInteger("height", height, 1, img.height - top);
  const out = new Uint8ClampedArray(width * height * 4);
  const rowBytes = width * 4;
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * img.width + left) * 4;
    out.set(img.data.subarray(from, from + rowBytes), y * rowBytes);
  }
  return { data: out, width, height };
}

/**
 * Mirrors top ↔ bottom (sharp's `flip`). Does not mutate `img`.
 *
 * @example
 * flipRgba(img); // the first row of img is now the last
 */
export function flipRgba(img: RgbaImage): RgbaImage {
  expectRgba(img);
  const { width: w, height: h, data } = img;
  const out = new Uint8ClampedArray(data.length);
  const rowBytes = w * 4;
  for (let y = 0; y < h; y++) {
    out.set(data.subarray(y * rowBytes, (y + 1) * rowBytes), (h - 1 - y) * rowBytes);
  }
  return { data: out, width: w, height: h };
}

/**
 * Mirrors left ↔ right (sharp's `flop`). Does not mutate `img`.
 *
 * @example
 * flopRgba(img); // the first column of img is now the last
 */
export function flopRgba(img: RgbaImage): RgbaImage {
  expectRgba(img);
  const { width: w, height: h } = img;
  const src = pixelsOf(img.data);
  const dst = new Uint32Array(w * h);
  for (let row = 0; row < w * h; row += w) {
    for (let x = 0, d = row + w - 1; x < w; x++, d--) dst[d] = src[row + x] as number;
  }
  return fromPixels(dst, w, h);
}

// Quarter turns go through square tiles, writing each output row segment in order: reading or
// writing whole columns of a 12 MP image touches a new cache line per pixel and is 2–3× slower.
const TILE = 64;

function quarterTurn(src: Uint32Array, w: number, h: number, clockwise: boolean): Uint32Array {
  // The output is h wide and w high. Clockwise, output (X, Y) comes from source (Y, h − 1 − X);
  // anticlockwise, from (w − 1 − Y, X).
  const dst = new Uint32Array(w * h);
  for (let tileY = 0; tileY < w; tileY += TILE) {
    const yEnd = Math.min(tileY + TILE, w);
    for (let tileX = 0; tileX < h; tileX += TILE) {
      const xEnd = Math.min(tileX + TILE, h);
      for (let y = tileY; y < yEnd; y++) {
        let d = y * h + tileX;
        let s = clockwise ? (h - 1 - tileX) * w + y : tileX * w + (w - 1 - y);
        const step = clockwise ? -w : w;
        for (let x = tileX; x < xEnd; x++, d++, s += step) dst[d] = src[s] as number;
      }
    }
  }
  return dst;
}

/**
 * Rotates clockwise by a right angle, exactly: every pixel moves, none is resampled. 90 and 270
 * swap width and height. Does not mutate `img`.
 *
 * @example
 * rotateRightAngle({ data, width: 3, height: 2 }, 90); // 2×3, the old bottom-left now top-left
 */
export function rotateRightAngle(img: RgbaImage, angle: 90 | 180 | 270): RgbaImage {
  expectRgba(img);
  const { width: w, height: h } = img;
  if (angle !== 90 && angle !== 180 && angle !== 270) {
    throw new RangeError(`Expected one of 90, 180, 270 for angle but received ${angle}`);
  }
  const src = pixelsOf(img.data);
  if (angle !== 180) return fromPixels(quarterTurn(src, w, h, angle === 90), h, w);
  const dst = new Uint32Array(w * h);
  for (let i = 0, j = w * h - 1; j >= 0; i++, j--) dst[j] = src[i] as number;
  return fromPixels(dst, w, h);
}

/**
 * Rotates clockwise by any angle in degrees, like sharp's `rotate(angle, { background })`. Right
 * angles (negative ones and 0 too) are exact permutations; other angles give the bounding box of
 * the rotated image, ceil(|w cos θ| + |h sin θ|) × ceil(|w sin θ| + |h cos θ|), each pixel
 * sampled bilinearly by inverse mapping around the centres, `background` outside the source.
 * Sampling treats the outside as background, so edges blend into it over one pixel instead of
 * showing jaggies; the blend is on premultiplied colour, so a transparent background does not
 * darken edges. Does not mutate `img`.
 *
 * @example
 * rotateRgba(img10x10, 45, [0, 0, 0, 0]); // a 15×15 image with transparent corners
 */
export function rotateRgba(
  img: RgbaImage,
  angle: number,
  background: readonly [number, number, number, number],
): RgbaImage {
  expectRgba(img);
  if (!Number.isFinite(angle)) {
    throw new RangeError(`Expected a finite number of degrees for angle but received ${angle}`);
  }
  if (!Array.isArray(background) || background.length !== 4) {
    throw new RangeError(
      `Expected [r, g, b, a] for background but received ${JSON.stringify(background)}`,
    );
  }
  background.forEach((v, i) => {
    expectInteger(`background[${i}]`, v, 0, 255);
  });
  const turn = ((angle % 360) + 360) % 360;
  if (turn === 0) return { data: img.data.slice(), width: img.width, height: img.height };
  if (turn % 90 === 0) return rotateRightAngle(img, turn as 90 | 180 | 270);

  const { width: w, height: h, data: src } = img;
  const rad = (turn * Math.PI) / 180;
  const cos = Math.cos(rad);
  const sin = Math.sin(rad);
  const outW = Math.ceil(Math.abs(w * cos) + Math.abs(h * sin));
  const outH = Math.ceil(Math.abs(w * sin) + Math.abs(h * cos));
  const out = new Uint8ClampedArray(outW * outH * 4);
  const [br, bg, bb, ba] = background;
  const srcCx = w / 2 - 0.5;
  const srcCy = h / 2 - 0.5;
  let o = 0;
  for (let oy = 0; oy < outH; oy++) {
    const dy = oy + 0.5 - outH / 2;
    for (let ox = 0; ox < outW; ox++, o += 4) {
      const dx = ox + 0.5 - outW / 2;
      // Inverse mapping: turn the output offset back anticlockwise (y points down).
      const sx = dx * cos + dy * sin + srcCx;
      const sy = dy * cos - dx * sin + srcCy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) {
        out[o] = br;
        out[o + 1] = bg;
        out[o + 2] = bb;
        out[o + 3] = ba;
        continue;
      }
      const fx = sx - x0;
      const fy = sy - y0;
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h) {
        // Interior, nearly every pixel: the four taps without bounds checks.
        const s00 = (y0 * w + x0) * 4;
        const s10 = s00 + 4;
        const s01 = s00 + w * 4;
        const s11 = s01 + 4;
        const a00 = (1 - fx) * (1 - fy) * (src[s00 + 3] as number);
        const a10 = fx * (1 - fy) * (src[s10 + 3] as number);
        const a01 = (1 - fx) * fy * (src[s01 + 3] as number);
        const a11 = fx * fy * (src[s11 + 3] as number);
        a = a00 + a10 + a01 + a11;
        r = (src[s00] as number) * a00 + (src[s10] as number) * a10;
        r += (src[s01] as number) * a01 + (src[s11] as number) * a11;
        g = (src[s00 + 1] as number) * a00 + (src[s10 + 1] as number) * a10;
        g += (src[s01 + 1] as number) * a01 + (src[s11 + 1] as number) * a11;
        b = (src[s00 + 2] as number) * a00 + (src[s10 + 2] as number) * a10;
        b += (src[s01 + 2] as number) * a01 + (src[s11 + 2] as number) * a11;
      } else {
        for (let t = 0; t < 4; t++) {
          const x = x0 + (t & 1);
          const y = y0 + (t >> 1);
          const weight = (t & 1 ? fx : 1 - fx) * (t >> 1 ? fy : 1 - fy);
          const inside = x >= 0 && y >= 0 && x < w && y < h;
          const s = (y * w + x) * 4;
          const wa = weight * (inside ? (src[s + 3] as number) : ba);
          r += (inside ? (src[s] as number) : br) * wa;
          g += (inside ? (src[s + 1] as number) : bg) * wa;
          b += (inside ? (src[s + 2] as number) : bb) * wa;
          a += wa;
        }
      }
      if (a > 0) {
        // `(v + 0.5) | 0` rounds half up to an int32 before the clamped store: 1.7× faster in
        // JavaScriptCore than storing Math.round's double (bun 1.4).
        const inverse = 1 / a;
        out[o] = (r * inverse + 0.5) | 0;
        out[o + 1] = (g * inverse + 0.5) | 0;
        out[o + 2] = (b * inverse + 0.5) | 0;
        out[o + 3] = (a + 0.5) | 0;
      } else {
        // Nothing opaque to weigh colour by: transparent, in the background's colour.
        out[o] = br;
        out[o + 1] = bg;
        out[o + 2] = bb;
      }
    }
  }
  return { data: out, width: outW, height: outH };
}
