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
  expectSize(mask.length, width, height);
  const labels = Uint32Array.from(mask, (v) => (v === 0 ? 0 : 1));
  return cocoRleOfLabels(labels, width, height, [1]).get(1) as CocoRle;
}

/**
 * The COCO RLE of each wanted label's mask in a row-major label map, in one column-major pass
 * over the map whatever the number of labels (see encodeCocoRle for the format).
 *
 * @example
 * cocoRleOfLabels(new Uint32Array([1, 2, 2, 0]), 2, 2, [1, 2]);
 * // Map { 1 => { size: [2, 2], counts: "01" + … }, 2 => … }
 */
export function cocoRleOfLabels(
  labels: Uint32Array,
  width: number,
  height: number,
  wanted: readonly number[],
): Map<number, CocoRle> {
  expectSize(labels.length, width, height);
  // Per wanted label: its run lengths so far, and where (column-major) its last run of 1s ended.
  const runs = new Map<number, { counts: number[]; end: number }>();
  for (const label of wanted) runs.set(label, { counts: [], end: 0 });
  const total = width * height;
  let t = 0;
  for (let x = 0; x < width; x++) {
    for (let p = x; p < total; p += width, t++) {
      const r = runs.get(labels[p] as number);
      if (r === undefined) continue;
      if (r.end === t && r.counts.length > 0) {
        r.counts[r.counts.length - 1] = (r.counts[r.counts.length - 1] as number) + 1;
      } else {
        r.counts.push(t - r.end, 1);
      }
      r.end = t + 1;
    }
  }
  const out = new Map<number, CocoRle>();
  for (const [label, r] of runs) {
    r.counts.push(total - r.end);
    // A mask ending in 1s has no final run of 0s (pycocotools writes none).
    if (r.counts.length > 1 && r.counts[r.counts.length - 1] === 0) r.counts.pop();
    out.set(label, { size: [height, width], counts: compressCounts(r.counts) });
  }
  return out;
}

function expectSize(length: number, width: number, height: number): void {
  if (length !== width * height) {
    throw new RangeError(
      `Expected ${width * height} mask values for a ${width}×${height} mask but received ${length}`,
    );
  }
}

/** maskApi.c's rleToString. */
function compressCounts(counts: readonly number[]): string {
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
  return s;
}
