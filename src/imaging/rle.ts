/** A COCO run-length encoding, as pycocotools writes it: `size` is [height, width]. */
export type CocoRle = { size: [number, number]; counts: string };

/**
 * The COCO RLE of a row-major 0/1 mask, as pycocotools' `mask.encode` gives it: runs in
 * column-major order (down each column, left to right), starting with the zeros (0 when the
 * first pixel is set), in the compressed string form of maskApi.c's rleToString: each count from
 * the third on as the difference to the count two before, written 5 bits a character, low bits
 * first, plus 48, with 0x20 marking that more characters follow and 0x10 of the last one the sign.
 *
 * @example
 * encodeCocoRle(new Uint8Array([0, 1, 1, 1]), 2, 2); // { size: [2, 2], counts: "13" }
 */
export function encodeCocoRle(mask: Uint8Array, width: number, height: number): CocoRle {
  if (mask.length !== width * height) {
    throw new RangeError(
      `Expected ${width * height} mask values for a ${width}×${height} mask but received ${mask.length}`,
    );
  }
  const counts: number[] = [];
  let previous = 0;
  let run = 0;
  for (let x = 0; x < width; x++) {
    for (let p = x; p < mask.length; p += width) {
      const v = mask[p] === 0 ? 0 : 1;
      if (v !== previous) {
        counts.push(run);
        run = 0;
        previous = v;
      }
      run++;
    }
  }
  counts.push(run);
  let s = "";
  for (let i = 0; i < counts.length; i++) {
    let x = (counts[i] as number) - (i > 2 ? (counts[i - 2] as number) : 0);
    let more = true;
    while (more) {
      let c = x & 0x1f;
      x >>= 5; // arithmetic: a negative difference keeps its sign
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      s += String.fromCharCode(c + 48);
    }
  }
  return { size: [height, width], counts: s };
}
