import { describe, expect, test } from "bun:test";
import { cocoRleOfLabels, encodeCocoRle } from "../../src/core/segmentation/rle.ts";
import { decodeCocoCounts, expandCocoCounts } from "../support/coco-rle.ts";

function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(1664525, state) + 1013904223) >>> 0;
    return state;
  };
}

/** `random_mask` of test/fixtures/reference/coco_rle.py: set where the LCG's top byte < per256. */
function randomMask(seed: number, width: number, height: number, per256: number): Uint8Array {
  const next = lcg(seed);
  return Uint8Array.from({ length: width * height }, () => (next() >>> 24 < per256 ? 1 : 0));
}

function disc(width: number, height: number, cx: number, cy: number, r: number): Uint8Array {
  return Uint8Array.from({ length: width * height }, (_, p) => {
    const x = p % width;
    const y = Math.floor(p / width);
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r ? 1 : 0;
  });
}

describe("COCO RLE", () => {
  test("hand-derived strings: runs down the columns; deltas from the 4th count, with a sign", () => {
    // 3×2, rows [0 1 1] [1 1 0]: columns read 0 1 | 1 1 | 1 0 → runs [1, 4, 1] → "141".
    expect(encodeCocoRle(new Uint8Array([0, 1, 1, 1, 1, 0]), 3, 2)).toEqual({
      size: [2, 3],
      counts: "141",
    });
    // 9×5: columns 0–7 set, then column 8 clear in rows 0–2: runs [0, 40, 3, 2]. 40 needs two
    // characters (8 | 0x20 → "X", 1 → "1"); the 4th is 2 − 40 = −38: 26 | 0x20 → "j", then 30
    // (sign bit 0x10 set, nothing more) → "N".
    const mask = Uint8Array.from({ length: 45 }, (_, p) => (p % 9 === 8 && p < 27 ? 0 : 1));
    const rle = encodeCocoRle(mask, 9, 5);
    expect(rle).toEqual({ size: [5, 9], counts: "0X13jN" });
    expect(decodeCocoCounts(rle.counts)).toEqual([0, 40, 3, 2]);
  });

  test("the strings pycocotools' algorithm gives (test/fixtures/reference/coco_rle.py)", () => {
    expect(encodeCocoRle(randomMask(11, 7, 5, 128), 7, 5).counts).toBe("013201NM011OO011O4");
    expect(encodeCocoRle(randomMask(12, 13, 9, 40), 13, 9).counts).toBe(
      "<110211ON0:0O0I0M0n00SO0409",
    );
    expect(encodeCocoRle(disc(64, 48, 30, 20, 15), 64, 48).counts).toBe(
      "Tg01Z1:I4L4M2N2N2O0O2O0O2O0000000O20N100000001N101N101N2N2N3L4L7Faj0",
    );
  });

  test("edge cases: empty, full, one pixel at each corner, 1×1", () => {
    expect(encodeCocoRle(new Uint8Array(12), 4, 3).counts).toBe("<"); // [12]
    expect(decodeCocoCounts(encodeCocoRle(new Uint8Array(12).fill(1), 4, 3).counts)).toEqual([
      0, 12,
    ]);
    for (const p of [0, 3, 8, 11]) {
      const mask = new Uint8Array(12);
      mask[p] = 1;
      const { counts } = encodeCocoRle(mask, 4, 3);
      expect(expandCocoCounts(decodeCocoCounts(counts), 4, 3)).toEqual(mask);
    }
    expect(encodeCocoRle(new Uint8Array([1]), 1, 1)).toEqual({ size: [1, 1], counts: "01" });
    expect(encodeCocoRle(new Uint8Array([0]), 1, 1)).toEqual({ size: [1, 1], counts: "1" });
  });

  test("random masks decode back exactly, sparse to dense, long runs included", () => {
    for (let seed = 1; seed <= 40; seed++) {
      const next = lcg(seed);
      const width = 1 + (next() % 97);
      const height = 1 + (next() % 89);
      const mask = randomMask(seed, width, height, (seed * 37) % 257);
      const { size, counts } = encodeCocoRle(mask, width, height);
      expect(size).toEqual([height, width]);
      expect(expandCocoCounts(decodeCocoCounts(counts), width, height)).toEqual(mask);
    }
    const big = disc(2000, 1500, 1000, 700, 650);
    expect(
      expandCocoCounts(decodeCocoCounts(encodeCocoRle(big, 2000, 1500).counts), 2000, 1500),
    ).toEqual(big);
  });

  test("every label of a label map in one pass: the same as each label's own mask", () => {
    const next = lcg(99);
    const width = 37;
    const height = 23;
    const labels = Uint32Array.from({ length: width * height }, () => next() % 6);
    const rles = cocoRleOfLabels(labels, width, height, [1, 2, 3, 4, 5, 9]);
    for (const label of [1, 2, 3, 4, 5, 9]) {
      const mask = labels.map((l) => (l === label ? 1 : 0));
      const own = encodeCocoRle(new Uint8Array(mask), width, height);
      expect([label, rles.get(label)]).toEqual([label, own]);
    }
    expect(rles.get(9)?.counts).toBe(
      encodeCocoRle(new Uint8Array(width * height), width, height).counts,
    );
  });

  test("a mask of the wrong size is refused", () => {
    expect(() => encodeCocoRle(new Uint8Array(5), 2, 2)).toThrow(
      "Expected 4 mask values for a 2×2 mask but received 5",
    );
  });
});
