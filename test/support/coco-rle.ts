/*
 * A COCO RLE decoder written apart from the service's encoder (src/core/segmentation/rle.ts), after
 * pycocotools' maskApi.c rleFrString, so that tests check the encoder against it.
 */

/** The run lengths of a compressed COCO RLE string. */
export function decodeCocoCounts(s: string): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      const c = s.charCodeAt(p) - 48;
      x |= (c & 0x1f) << (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && c & 0x10) x |= -1 << (5 * k);
    }
    if (counts.length > 2) x += counts[counts.length - 2] as number;
    counts.push(x);
  }
  return counts;
}

/**
 * Run lengths (down each column, left to right, zeros first) back to a row-major 0/1 mask;
 * throws unless they cover width × height exactly.
 */
export function expandCocoCounts(counts: number[], width: number, height: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  let at = 0;
  counts.forEach((run, i) => {
    for (let k = 0; k < run; k++, at++) {
      mask[(at % height) * width + Math.floor(at / height)] = i % 2;
    }
  });
  if (at !== width * height) {
    throw new Error(`the runs cover ${at} pixels, not ${width} × ${height}`);
  }
  return mask;
}
