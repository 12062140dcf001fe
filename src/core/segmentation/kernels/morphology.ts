import { type BinaryMask, expectGrid } from "./types.ts";

/**
 * The mask with its holes filled: background regions that do not reach the image's border
 * (4-connected, as scipy.ndimage.binary_fill_holes) become foreground. A flood fill of the
 * background from the border, on an explicit stack. Does not mutate `mask`.
 *
 * @example
 * // A ring around one background pixel becomes a solid 3×3 square.
 * fillHoles({ data: new Uint8Array([1, 1, 1, 1, 0, 1, 1, 1, 1]), width: 3, height: 3 }).data;
 * // [1, 1, 1, 1, 1, 1, 1, 1, 1]
 */
export function fillHoles(mask: BinaryMask): BinaryMask {
  const { data, width, height } = mask;
  expectGrid("mask values", data.length, width, height);
  // 1 = foreground or not yet reached; background reached from the border becomes 0.
  const out = new Uint8Array(data.length).fill(1);
  const stack = new Int32Array(data.length);
  let top = 0;
  const visit = (p: number) => {
    if (data[p] === 0 && out[p] === 1) {
      out[p] = 0;
      stack[top++] = p;
    }
  };
  for (let x = 0; x < width; x++) {
    visit(x);
    visit((height - 1) * width + x);
  }
  for (let y = 0; y < height; y++) {
    visit(y * width);
    visit(y * width + width - 1);
  }
  while (top > 0) {
    const p = stack[--top] as number;
    const x = p % width;
    if (x > 0) visit(p - 1);
    if (x < width - 1) visit(p + 1);
    if (p >= width) visit(p - width);
    if (p < data.length - width) visit(p + width);
  }
  return { data: out, width, height };
}
