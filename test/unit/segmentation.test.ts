import { describe, expect, test } from "bun:test";
import type { RgbaImage } from "../../src/core/imaging/raster.ts";
import { EdgeHeap } from "../../src/core/segmentation/kernels/edge-heap.ts";
import {
  adaptiveThresholdMask,
  type BinaryMask,
  channelOf,
  fillHoles,
  growRegions,
  type LabelMap,
  labelComponents,
  lumaOf,
  maskOfLabels,
  multiOtsuThresholds,
  otsuThreshold,
  regionGrow,
  regionStats,
  removeSmallRegions,
  thresholdMask,
  upscaleLabels,
} from "../../src/core/segmentation/kernels/index.ts";

/** The 32-bit LCG of test/fixtures/reference/skimage_thresholds.py (Numerical Recipes' constants). */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(1664525, state) + 1013904223) >>> 0;
    return state;
  };
}

/** `sample_mixture` of the reference script: integer arithmetic only, so both sides agree. */
function sampleMixture(seed: number, n: number, modes: [number, number, number][]): Uint8Array {
  const next = lcg(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let pick = next() >>> 24;
    let mode = modes[modes.length - 1] as [number, number, number];
    for (const m of modes) {
      if (pick < m[0]) {
        mode = m;
        break;
      }
      pick -= m[0];
    }
    let total = 0;
    for (let k = 0; k < 4; k++) total += next() >>> 24;
    out[i] = Math.min(255, Math.max(0, mode[1] + Math.floor(((total - 510) * mode[2]) / 510)));
  }
  return out;
}

function gradient(w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) out[y * w + x] = Math.floor((255 * (x + y)) / (w + h - 2));
  }
  return out;
}

/** `lit_bars` of the reference script: brighter to the right and down, noisy, with dark bars. */
function litBars(w: number, h: number, seed: number): Uint8Array {
  const next = lcg(seed);
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = 40 + 2 * x + y + ((next() >>> 24) % 21) - 10;
      if (isBar(x, y)) v -= 45;
      out[y * w + x] = Math.min(255, Math.max(0, v));
    }
  }
  return out;
}
const isBar = (x: number, y: number) => y % 12 >= 4 && y % 12 <= 6 && x >= 8 && x < 56;

const count = (data: ArrayLike<number>) => Array.from(data).reduce((n, v) => n + (v ? 1 : 0), 0);

function iou(a: Uint8Array, b: Uint8Array): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] && b[i]) inter++;
    if (a[i] || b[i]) union++;
  }
  return inter / union;
}

/** Components by breadth-first flood fill from each unlabelled pixel in scan order: the reference. */
function floodLabels(mask: BinaryMask, connectivity: 4 | 8): LabelMap {
  const { data, width, height } = mask;
  const labels = new Uint32Array(width * height);
  let count = 0;
  for (let start = 0; start < labels.length; start++) {
    if (!data[start] || labels[start]) continue;
    labels[start] = ++count;
    const queue = [start];
    while (queue.length) {
      const p = queue.shift() as number;
      const px = p % width;
      const py = Math.floor(p / width);
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          if ((dx === 0 && dy === 0) || (connectivity === 4 && dx !== 0 && dy !== 0)) continue;
          const x = px + dx;
          const y = py + dy;
          const q = y * width + x;
          if (x < 0 || y < 0 || x >= width || y >= height || !data[q] || labels[q]) continue;
          labels[q] = count;
          queue.push(q);
        }
      }
    }
  }
  return { labels, width, height, count };
}

/** A mask from rows of "#" (set) and "." (clear). */
function maskOf(rows: string[]): BinaryMask {
  const width = rows[0]?.length ?? 0;
  return {
    data: Uint8Array.from(rows.join(""), (ch) => (ch === "#" ? 1 : 0)),
    width,
    height: rows.length,
  };
}

const rowsOf = (m: { data?: Uint8Array; labels?: Uint32Array; width: number }) => {
  const cells = Array.from(m.data ?? m.labels ?? []);
  const out: string[] = [];
  for (let i = 0; i < cells.length; i += m.width) out.push(cells.slice(i, i + m.width).join(""));
  return out;
};

/** An RGBA image from `colour(x, y)`, plus uniform noise of ±`noise` per channel from the LCG. */
function synthetic(
  width: number,
  height: number,
  colour: (x: number, y: number) => [number, number, number],
  noise: number,
  seed: number,
): RgbaImage {
  const next = lcg(seed);
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = 4 * (y * width + x);
      const c = colour(x, y);
      for (let k = 0; k < 3; k++) {
        data[i + k] = (c[k] as number) + ((next() >>> 24) % (2 * noise + 1)) - noise;
      }
      data[i + 3] = 255;
    }
  }
  return { data, width, height };
}

describe("thresholds against scikit-image 0.19.3", () => {
  // From `/usr/bin/python3 test/fixtures/reference/skimage_thresholds.py` (Debian's python3-skimage
  // 0.19.3, numpy 1.24.2): threshold_otsu, threshold_multiotsu(classes=3 and 4), and how many
  // values are > threshold_otsu.
  const cases: [string, Uint8Array, number, number[], number[], number][] = [
    [
      "bimodal",
      sampleMixture(1, 4096, [
        [102, 60, 70],
        [154, 170, 80],
      ]),
      114,
      [103, 167],
      [59, 112, 168],
      2411,
    ],
    [
      "skewed",
      sampleMixture(7, 4096, [
        [30, 200, 30],
        [226, 90, 70],
      ]),
      144,
      [90, 147],
      [77, 102, 147],
      488,
    ],
    [
      "three-mode",
      sampleMixture(42, 6144, [
        [80, 50, 60],
        [90, 125, 60],
        [86, 200, 55],
      ]),
      127,
      [87, 161],
      [76, 121, 169],
      3023,
    ],
    ["gradient", gradient(100, 60), 127, [93, 159], [75, 125, 177], 2970],
  ];

  for (const [name, values, otsu, multi3, multi4, above] of cases) {
    test(name, () => {
      const t = otsuThreshold(values);
      expect(t).toBe(otsu);
      expect(multiOtsuThresholds(values, 3)).toEqual(multi3);
      expect(multiOtsuThresholds(values, 4)).toEqual(multi4);
      expect(count(thresholdMask(values, values.length, 1, t, false).data)).toBe(above);
    });
  }

  test("threshold_local (block 15, offset 5) on uneven lighting: same foreground counts", () => {
    const values = litBars(64, 48, 3);
    const mean = adaptiveThresholdMask(values, 64, 48, {
      method: "mean",
      blockSize: 15,
      offset: 5,
    });
    const gauss = adaptiveThresholdMask(values, 64, 48, {
      method: "gaussian",
      blockSize: 15,
      offset: 5,
    });
    expect([count(mean.data), count(gauss.data)]).toEqual([2389, 2288]);
  });

  test("edge cases: a constant input is its own Otsu threshold; multi-Otsu on just enough values", () => {
    expect(otsuThreshold(new Uint8Array([7, 7, 7]))).toBe(7);
    expect(otsuThreshold(new Uint8Array([10, 12, 11, 200, 210, 205]))).toBe(12);
    expect(multiOtsuThresholds(new Uint8Array([5, 9, 9, 200]), 3)).toEqual([5, 9]);
    expect(multiOtsuThresholds(new Uint8Array([10, 11, 100, 101, 200, 201]), 3)).toEqual([11, 101]);
  });
});

describe("luma, channels and fixed thresholds", () => {
  const img: RgbaImage = {
    data: new Uint8ClampedArray([255, 0, 0, 255, 0, 255, 0, 0, 10, 20, 250, 255]),
    width: 3,
    height: 1,
  };

  test("Rec. 709 luma (alpha ignored) and single channels", () => {
    expect(Array.from(lumaOf(img))).toEqual([54, 182, 34]);
    expect(Array.from(channelOf(img, "r"))).toEqual([255, 0, 10]);
    expect(Array.from(channelOf(img, "b"))).toEqual([0, 0, 250]);
  });

  test("foreground is value > threshold; invert takes value <= threshold", () => {
    const v = new Uint8Array([10, 200, 128, 129]);
    expect(Array.from(thresholdMask(v, 2, 2, 128, false).data)).toEqual([0, 1, 0, 1]);
    expect(Array.from(thresholdMask(v, 2, 2, 128, true).data)).toEqual([1, 0, 1, 0]);
  });
});

describe("connected components", () => {
  test("pixels touching at a corner: two components with 4-connectivity, one with 8", () => {
    const m = maskOf(["#..", ".#.", "..#"]);
    expect(labelComponents(m, 4).count).toBe(3);
    expect(labelComponents(m, 8).count).toBe(1);
    const pair = maskOf(["#.", ".#"]);
    expect([labelComponents(pair, 4).count, labelComponents(pair, 8).count]).toEqual([2, 1]);
  });

  test("labels in scan order of each component's first pixel, background 0", () => {
    const m = maskOf(["..##.#", "#..#.#", "#.##.#", "......", "##..##"]);
    const four = labelComponents(m, 4);
    expect(four.count).toBe(5);
    expect(rowsOf(four)).toEqual(["001102", "300102", "301102", "000000", "440055"]);
  });

  test("a U joined at the bottom merges provisional labels; a checkerboard splits or joins", () => {
    const u = labelComponents(maskOf(["#.#.#", "#.#.#", "#####"]), 4);
    expect(u.count).toBe(1);
    expect(count(u.labels)).toBe(11);
    const board = maskOf(Array.from({ length: 6 }, (_, y) => (y % 2 ? ".#.#.#" : "#.#.#.")));
    expect(labelComponents(board, 4).count).toBe(18);
    expect(labelComponents(board, 8).count).toBe(1);
    // 8-connectivity through the up-right neighbour only.
    expect(labelComponents(maskOf(["..#", ".#.", "#.."]), 8).count).toBe(1);
  });

  test("random masks: the same components as a plain flood fill, for 4 and 8", () => {
    for (let seed = 1; seed <= 30; seed++) {
      const next = lcg(seed);
      const width = 1 + (next() % 40);
      const height = 1 + (next() % 30);
      const density = next() % 256;
      const mask = {
        data: Uint8Array.from({ length: width * height }, () => (next() >>> 24 < density ? 1 : 0)),
        width,
        height,
      };
      for (const connectivity of [4, 8] as const) {
        const got = labelComponents(mask, connectivity);
        const want = floodLabels(mask, connectivity);
        expect([seed, connectivity, got.count]).toEqual([seed, connectivity, want.count]);
        expect(got.labels).toEqual(want.labels);
      }
    }
  });

  test("empty and full masks", () => {
    expect(labelComponents(maskOf(["...", "..."]), 8).count).toBe(0);
    const full = labelComponents(maskOf(["###", "###"]), 4);
    expect([full.count, Array.from(full.labels)]).toEqual([1, [1, 1, 1, 1, 1, 1]]);
  });
});

describe("holes, small regions, upscaling, measurements", () => {
  test("fillHoles fills enclosed background only", () => {
    const m = maskOf(["#####.", "#..#..", "#####.", "......", "##.###", "#..#.#"]);
    expect(rowsOf(fillHoles(m))).toEqual([
      "111110",
      "111100",
      "111110",
      "000000",
      "110111",
      "100101",
    ]);
  });

  test("removeSmallRegions drops regions under minArea and renumbers the rest in order", () => {
    const map: LabelMap = {
      labels: new Uint32Array([1, 2, 2, 3, 3, 3, 0]),
      width: 7,
      height: 1,
      count: 3,
    };
    const out = removeSmallRegions(map, 2);
    expect([out.count, Array.from(out.labels)]).toEqual([2, [0, 1, 1, 2, 2, 2, 0]]);
    expect(removeSmallRegions(map, 0).labels).toEqual(map.labels);
    expect(Array.from(maskOfLabels(map).data)).toEqual([1, 1, 1, 1, 1, 1, 0]);
  });

  test("upscaleLabels is nearest neighbour on pixel centres", () => {
    const map: LabelMap = { labels: new Uint32Array([1, 2, 0, 3]), width: 2, height: 2, count: 3 };
    expect(rowsOf(upscaleLabels(map, 4, 4))).toEqual(["1122", "1122", "0033", "0033"]);
    expect(rowsOf(upscaleLabels(map, 5, 2))).toEqual(["11222", "00333"]);
  });

  test("regionStats renumbers by area, largest first, and measures each region", () => {
    const labels = new Uint32Array([1, 0, 2, 2, 1, 0, 2, 2, 0, 0, 2, 0]);
    const data = new Uint8ClampedArray(12 * 4);
    labels.forEach((l, p) => {
      data.set(l === 2 ? [200, 100, 0, 255] : [10, 20, 31, 255], 4 * p);
    });
    const img = { data, width: 4, height: 3 };
    const { map, regions } = regionStats({ labels, width: 4, height: 3, count: 2 }, img);
    expect(Array.from(map.labels)).toEqual([2, 0, 1, 1, 2, 0, 1, 1, 0, 0, 1, 0]);
    expect(regions).toEqual([
      {
        label: 1,
        area: 5,
        bbox: { left: 2, top: 0, width: 2, height: 3 },
        centroid: { x: 2.4, y: 0.8 },
        mean_colour: { r: 200, g: 100, b: 0, hex: "#c86400" },
      },
      {
        label: 2,
        area: 2,
        bbox: { left: 0, top: 0, width: 1, height: 2 },
        centroid: { x: 0, y: 0.5 },
        mean_colour: { r: 10, g: 20, b: 31, hex: "#0a141f" },
      },
    ]);
  });
});

describe("adaptive thresholding", () => {
  test("recovers dark bars under a lighting gradient, where one global threshold cannot", () => {
    const w = 64;
    const h = 48;
    const values = litBars(w, h, 3);
    const bars = Uint8Array.from({ length: w * h }, (_, p) =>
      isBar(p % w, Math.floor(p / w)) ? 1 : 0,
    );
    // An offset beyond the noise (±10) keeps the background out.
    for (const method of ["mean", "gaussian"] as const) {
      const lit = adaptiveThresholdMask(values, w, h, { method, blockSize: 15, offset: 15 });
      const dark = lit.data.map((v) => 1 - v);
      expect([method, iou(dark, bars) >= 0.95]).toEqual([method, true]);
    }
    const global = thresholdMask(values, w, h, otsuThreshold(values), true);
    expect(iou(global.data, bars)).toBeLessThan(0.6);
  });
});

describe("region growing", () => {
  const bg: [number, number, number] = [60, 90, 160];
  const fg: [number, number, number] = [220, 170, 60];
  const inDisc = (x: number, y: number) => (x - 60) ** 2 + (y - 50) ** 2 <= 30 ** 2;
  // A five-pointed star around (60, 50): inside when within the polygon (even-odd rule).
  const star = Array.from({ length: 10 }, (_, k) => {
    const r = k % 2 ? 16 : 40;
    const a = (Math.PI * k) / 5 - Math.PI / 2;
    return [60 + r * Math.cos(a), 50 + r * Math.sin(a)] as const;
  });
  const inStar = (x: number, y: number) => {
    let inside = false;
    for (let i = 0, j = star.length - 1; i < star.length; j = i++) {
      const [xi, yi] = star[i] as readonly [number, number];
      const [xj, yj] = star[j] as readonly [number, number];
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  };
  const truth = (inside: (x: number, y: number) => boolean) =>
    Uint8Array.from({ length: 120 * 100 }, (_, p) =>
      inside(p % 120, Math.floor(p / 120)) ? 1 : 0,
    );

  for (const [name, inside, metric, tolerance] of [
    ["disc, Lab ΔE", inDisc, "lab", 20],
    ["star, RGB", inStar, "rgb", 40],
  ] as const) {
    test(`a seed inside a noisy ${name} recovers the shape (IoU ≥ 0.95)`, () => {
      const img = synthetic(120, 100, (x, y) => (inside(x, y) ? fg : bg), 12, 5);
      const mask = regionGrow(img, [{ x: 60, y: 50 }], { tolerance, metric, connectivity: 4 });
      expect(iou(mask.data, truth(inside))).toBeGreaterThanOrEqual(0.95);
      // Seeded in the background instead: everything but the shape.
      const outside = regionGrow(img, [{ x: 2, y: 2 }], { tolerance, metric, connectivity: 4 });
      expect(
        iou(
          outside.data,
          truth(inside).map((v) => 1 - v),
        ),
      ).toBeGreaterThanOrEqual(0.95);
    });
  }

  test("several seeds join their regions; a tolerance of 0 keeps only identical colours", () => {
    const img = synthetic(120, 100, (x, y) => (inDisc(x, y) ? fg : bg), 0, 1);
    const both = regionGrow(
      img,
      [
        { x: 60, y: 50 },
        { x: 0, y: 0 },
      ],
      {
        tolerance: 0,
        metric: "lab",
        connectivity: 8,
      },
    );
    expect(count(both.data)).toBe(120 * 100);
    const disc = regionGrow(img, [{ x: 60, y: 50 }], {
      tolerance: 0,
      metric: "rgb",
      connectivity: 8,
    });
    expect(iou(disc.data, truth(inDisc))).toBe(1);
  });

  test("unseeded: noisy flat patches become exactly those regions", () => {
    const colours: [number, number, number][] = [
      [200, 40, 40],
      [40, 160, 60],
      [50, 60, 200],
      [128, 128, 128],
    ];
    const patch = (x: number, y: number) => (x < 60 ? 0 : 1) + (y < 40 ? 0 : 2);
    const img = synthetic(
      120,
      80,
      (x, y) => colours[patch(x, y)] as [number, number, number],
      10,
      9,
    );
    const map = growRegions(img, { tolerance: 12, metric: "lab", connectivity: 8, maxRegions: 16 });
    expect(map.count).toBe(4);
    // Labels in scan order: top-left, top-right, bottom-left, bottom-right.
    const expected = Uint32Array.from(
      { length: 120 * 80 },
      (_, p) => patch(p % 120, Math.floor(p / 120)) + 1,
    );
    expect(map.labels).toEqual(expected);
    const rgb = growRegions(img, { tolerance: 20, metric: "rgb", connectivity: 4, maxRegions: 16 });
    expect(rgb.labels).toEqual(expected);
    // Fewer allowed than there are: the most similar neighbours merge first (grey with blue).
    const three = growRegions(img, {
      tolerance: 12,
      metric: "lab",
      connectivity: 8,
      maxRegions: 3,
    });
    expect(three.count).toBe(3);
    const one = growRegions(img, { tolerance: 12, metric: "lab", connectivity: 4, maxRegions: 1 });
    expect([one.count, one.labels.every((l) => l === 1)]).toEqual([1, true]);
  });

  test("unseeded on thin and tiny images: a column, a row, one pixel, a 2×2 checkerboard", () => {
    // Stripes 10 pixels long along a column or a row: 5 regions.
    const bands = (w: number, h: number) =>
      synthetic(w, h, (x, y) => (Math.floor((x + y) / 10) % 2 ? [250, 250, 250] : [0, 0, 0]), 0, 1);
    const options = { tolerance: 5, metric: "rgb", maxRegions: 16, minSize: 0 } as const;
    for (const connectivity of [4, 8] as const) {
      expect(growRegions(bands(1, 50), { ...options, connectivity }).count).toBe(5);
      expect(growRegions(bands(50, 1), { ...options, connectivity }).count).toBe(5);
      expect(growRegions(bands(1, 1), { ...options, connectivity }).count).toBe(1);
    }
    const board = synthetic(2, 2, (x, y) => ((x + y) % 2 ? [255, 255, 255] : [0, 0, 0]), 0, 1);
    // Diagonal pixels join only through corners.
    expect(growRegions(board, { ...options, connectivity: 4 }).labels).toEqual(
      new Uint32Array([1, 2, 3, 4]),
    );
    expect(growRegions(board, { ...options, connectivity: 8 }).labels).toEqual(
      new Uint32Array([1, 2, 2, 1]),
    );
  });
});

test("the edge heap pops edges cheapest first, growing past its first capacity", () => {
  const heap = new EdgeHeap(2);
  const next = lcg(3);
  const costs = Array.from({ length: 500 }, () => next() % 1000);
  costs.forEach((cost, i) => {
    heap.push(cost, i, 1000 + i);
  });
  const top = new Float64Array(3);
  const popped: number[] = [];
  while (heap.pop(top)) {
    expect(top[2]).toBe(1000 + (top[1] as number));
    expect(costs[top[1] as number]).toBe(top[0] as number);
    popped.push(top[0] as number);
  }
  expect(popped).toEqual([...costs].sort((a, b) => a - b));
});

describe("parameters are checked", () => {
  const img = synthetic(4, 3, () => [0, 0, 0], 0, 1);
  const grow = { tolerance: 5, metric: "lab", connectivity: 8 } as const;
  const v = new Uint8Array(12);
  const cases: [string, () => unknown, string][] = [
    [
      "threshold grid",
      () => thresholdMask(v, 5, 3, 1, false),
      "Expected 15 values for a 5×3 image but received 12",
    ],
    [
      "threshold",
      () => thresholdMask(v, 4, 3, Number.NaN, false),
      "Expected a finite number for threshold",
    ],
    [
      "classes",
      () => multiOtsuThresholds(v, 1),
      "Expected an integer between 2 and 16 for classes but received 1",
    ],
    [
      "distinct values",
      () => multiOtsuThresholds(v, 3),
      "Expected at least 3 distinct values for 3 classes but received 1",
    ],
    ["empty otsu", () => otsuThreshold(new Uint8Array(0)), "Expected at least one value"],
    [
      "blockSize even",
      () => adaptiveThresholdMask(v, 4, 3, { method: "mean", blockSize: 4, offset: 0 }),
      "Expected an odd integer for blockSize but received 4",
    ],
    [
      "blockSize range",
      () => adaptiveThresholdMask(v, 4, 3, { method: "gaussian", blockSize: 1, offset: 0 }),
      "Expected an integer between 3 and 1023 for blockSize but received 1",
    ],
    [
      "connectivity",
      () => labelComponents({ data: v, width: 4, height: 3 }, 6 as 4),
      "Expected 4 or 8 for connectivity but received 6",
    ],
    [
      "seed outside",
      () => regionGrow(img, [{ x: 4, y: 0 }], grow),
      "Expected every seed inside the 4×3 image but received (4, 0)",
    ],
    [
      "no seeds",
      () => regionGrow(img, [], grow),
      "Expected between 1 and 65535 seeds but received 0",
    ],
    [
      "tolerance",
      () => regionGrow(img, [{ x: 0, y: 0 }], { ...grow, tolerance: -1 }),
      "Expected a number of at least 0 for tolerance but received -1",
    ],
    [
      "metric",
      () => growRegions(img, { ...grow, metric: "hsv" as "lab", maxRegions: 2 }),
      "Expected lab or rgb for metric but received hsv",
    ],
    [
      "maxRegions",
      () => growRegions(img, { ...grow, maxRegions: 0 }),
      "Expected an integer between 1 and 2147483647 for maxRegions but received 0",
    ],
    [
      "minArea",
      () => removeSmallRegions({ labels: new Uint32Array(12), width: 4, height: 3, count: 0 }, -1),
      "Expected an integer between 0",
    ],
    [
      "stats size",
      () => regionStats({ labels: new Uint32Array(2), width: 2, height: 1, count: 0 }, img),
      "Expected an image of 2×1 for these labels but received 4×3",
    ],
  ];
  for (const [name, run, message] of cases) {
    test(name, () => {
      expect(run).toThrow(RangeError);
      expect(run).toThrow(message);
    });
  }
});
