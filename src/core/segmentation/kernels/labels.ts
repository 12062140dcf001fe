import { expectInteger, expectRgba } from "../../imaging/kernels/validate.ts";
import type { RgbaImage } from "../../imaging/raster.ts";
import { doubled } from "./doubled.ts";
import {
  type BinaryMask,
  type Connectivity,
  expectConnectivity,
  expectGrid,
  type LabelMap,
} from "./types.ts";
import { UnionFind } from "./union-find.ts";

/** Runs of foreground, as absolute pixel indices [start, end), and each run's provisional set. */
class Runs {
  start = new Int32Array(4096);
  end = new Int32Array(4096);
  set = new Int32Array(4096);
  count = 0;

  add(start: number, end: number, set: number): void {
    if (this.count === this.start.length) {
      this.start = doubled(this.start);
      this.end = doubled(this.end);
      this.set = doubled(this.set);
    }
    this.start[this.count] = start;
    this.end[this.count] = end;
    this.set[this.count++] = set;
  }
}

/**
 * Connected components of a binary mask: each foreground pixel gets the label of its component,
 * 1…count in scan order of each component's first pixel (background stays 0). Run-based two-pass
 * labelling with union-find, no recursion: each row's runs of foreground join the runs of the row
 * above that they touch (overlap, or for 8-connectivity also meet at a corner), then every run is
 * filled with its set's number. Work per pixel is one read and one write; the joins are per run.
 * Does not mutate `mask`.
 *
 * @example
 * // Two pixels touching at a corner: two components with 4-connectivity, one with 8.
 * const mask = { data: new Uint8Array([1, 0, 0, 1]), width: 2, height: 2 };
 * labelComponents(mask, 4).count; // 2
 * labelComponents(mask, 8).count; // 1
 */
export function labelComponents(mask: BinaryMask, connectivity: Connectivity): LabelMap {
  const { data, width, height } = mask;
  expectGrid("mask values", data.length, width, height);
  expectConnectivity(connectivity);
  // Runs of the row above touch [s, e) when they start before e + reach and end after s - reach.
  const reach = connectivity === 8 ? 1 : 0;
  const runs = new Runs();
  const sets = new UnionFind(1024);
  let above = 0; // first run of the row above
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const rowEnd = row + width;
    const first = runs.count;
    let j = above;
    let p = row;
    while (p < rowEnd) {
      while (p < rowEnd && data[p] === 0) p++;
      if (p === rowEnd) break;
      const s = p;
      while (p < rowEnd && data[p] !== 0) p++;
      let set = -1;
      // Runs above that end before this one's reach cannot touch this or any later run.
      while (j < first && (runs.end[j] as number) + width + reach <= s) j++;
      for (let k = j; k < first && (runs.start[k] as number) + width < p + reach; k++) {
        const other = runs.set[k] as number;
        set = set < 0 ? sets.find(other) : sets.union(set, other);
      }
      runs.add(s, p, set < 0 ? sets.add() : set);
    }
    above = first;
  }
  // Roots are their sets' first-made members, so numbering the roots in index order numbers the
  // components in scan order of their first pixels.
  const number = new Uint32Array(sets.size);
  let count = 0;
  for (let i = 0; i < sets.size; i++) {
    const root = sets.find(i);
    number[i] = root === i ? ++count : (number[root] as number);
  }
  const labels = new Uint32Array(width * height);
  for (let r = 0; r < runs.count; r++) {
    labels.fill(number[runs.set[r] as number] as number, runs.start[r], runs.end[r]);
  }
  return { labels, width, height, count };
}

/**
 * The foreground of a label map: 1 wherever the label is not 0. Does not mutate `map`.
 *
 * @example
 * maskOfLabels({ labels: new Uint32Array([0, 2, 1]), width: 3, height: 1, count: 2 }).data; // [0, 1, 1]
 */
export function maskOfLabels(map: LabelMap): BinaryMask {
  const { labels, width, height } = map;
  const data = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) data[i] = labels[i] === 0 ? 0 : 1;
  return { data, width, height };
}

/** Pixels per label, 0…count. */
function areasOf(map: LabelMap): Float64Array {
  const areas = new Float64Array(map.count + 1);
  const { labels } = map;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i] as number;
    areas[l] = (areas[l] as number) + 1;
  }
  return areas;
}

/** The map with each label l replaced by `to[l]`. */
function relabel(map: LabelMap, to: Uint32Array, count: number): LabelMap {
  const labels = new Uint32Array(map.labels.length);
  for (let i = 0; i < labels.length; i++) labels[i] = to[map.labels[i] as number] as number;
  return { labels, width: map.width, height: map.height, count };
}

/**
 * The map without its regions of fewer than `minArea` pixels (they become background); the
 * others are renumbered 1…count in their previous order. Does not mutate `map`.
 *
 * @example
 * removeSmallRegions({ labels: new Uint32Array([1, 2, 2]), width: 3, height: 1, count: 2 }, 2);
 * // { labels: [0, 1, 1], count: 1, … }
 */
export function removeSmallRegions(map: LabelMap, minArea: number): LabelMap {
  expectInteger("minArea", minArea, 0, Number.MAX_SAFE_INTEGER);
  const areas = areasOf(map);
  const to = new Uint32Array(map.count + 1);
  let count = 0;
  for (let l = 1; l <= map.count; l++) if ((areas[l] as number) >= minArea) to[l] = ++count;
  return relabel(map, to, count);
}

/**
 * The map scaled to width × height by nearest neighbour (pixel centres): the labels of a
 * segmentation made on a shrunk copy, on the full-size image. Does not mutate `map`.
 *
 * @example
 * upscaleLabels({ labels: new Uint32Array([1, 2]), width: 2, height: 1, count: 2 }, 4, 2).labels;
 * // [1, 1, 2, 2, 1, 1, 2, 2]
 */
export function upscaleLabels(map: LabelMap, width: number, height: number): LabelMap {
  expectInteger("width", width, 1, 2 ** 30);
  expectInteger("height", height, 1, 2 ** 30);
  const sw = map.width;
  const sx = Int32Array.from({ length: width }, (_, x) =>
    Math.min(sw - 1, Math.floor(((x + 0.5) * sw) / width)),
  );
  const labels = new Uint32Array(width * height);
  for (let y = 0; y < height; y++) {
    const srcRow = Math.min(map.height - 1, Math.floor(((y + 0.5) * map.height) / height)) * sw;
    const row = y * width;
    for (let x = 0; x < width; x++)
      labels[row + x] = map.labels[srcRow + (sx[x] as number)] as number;
  }
  return { labels, width, height, count: map.count };
}

export type RegionStats = {
  label: number;
  area: number;
  bbox: { left: number; top: number; width: number; height: number };
  /** Mean pixel position (pixel centres at integer coordinates). */
  centroid: { x: number; y: number };
  /** Mean colour of the region's pixels; hex of the rounded means. */
  mean_colour: { r: number; g: number; b: number; hex: string };
};

const round2 = (v: number) => Math.round(v * 100) / 100;
const hex2 = (v: number) => Math.round(v).toString(16).padStart(2, "0");

/**
 * Measures each region on `img` (area, bounding box, centroid, mean colour) and renumbers the map
 * so that label 1 is the largest region, 2 the next, …(equal areas keep their previous order).
 * Returns the renumbered map and the regions in that order. Does not mutate its inputs.
 *
 * @example
 * const { map: sorted, regions } = regionStats(map, img);
 * regions[0]; // { label: 1, area: 192, bbox: {…}, centroid: {…}, mean_colour: { r: 220, …, hex: "#dcdcdc" } }
 */
export function regionStats(
  map: LabelMap,
  img: RgbaImage,
): { map: LabelMap; regions: RegionStats[] } {
  expectRgba(img);
  const { labels, width, height, count } = map;
  expectGrid("labels", labels.length, width, height);
  if (img.width !== width || img.height !== height) {
    throw new RangeError(
      `Expected an image of ${width}×${height} for these labels but received ${img.width}×${img.height}`,
    );
  }
  const n = count + 1;
  const area = new Float64Array(n);
  const sx = new Float64Array(n);
  const sy = new Float64Array(n);
  const sr = new Float64Array(n);
  const sg = new Float64Array(n);
  const sb = new Float64Array(n);
  const left = new Int32Array(n).fill(width);
  const top = new Int32Array(n).fill(height);
  const right = new Int32Array(n).fill(-1);
  const bottom = new Int32Array(n).fill(-1);
  const d = img.data;
  // Along a row, pixels come in runs of one label: sum each run locally, update the region once.
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let x = 0;
    while (x < width) {
      const l = labels[row + x] as number;
      if (l === 0) {
        x++;
        continue;
      }
      const x0 = x;
      let r = 0;
      let g = 0;
      let b = 0;
      for (let i = 4 * (row + x); x < width && labels[row + x] === l; x++, i += 4) {
        r += d[i] as number;
        g += d[i + 1] as number;
        b += d[i + 2] as number;
      }
      const run = x - x0;
      area[l] = (area[l] as number) + run;
      sx[l] = (sx[l] as number) + (run * (x0 + x - 1)) / 2;
      sy[l] = (sy[l] as number) + run * y;
      sr[l] = (sr[l] as number) + r;
      sg[l] = (sg[l] as number) + g;
      sb[l] = (sb[l] as number) + b;
      if (x0 < (left[l] as number)) left[l] = x0;
      if (x - 1 > (right[l] as number)) right[l] = x - 1;
      if (top[l] === height) top[l] = y;
      bottom[l] = y;
    }
  }
  const order = Array.from({ length: count }, (_, i) => i + 1)
    .filter((l) => (area[l] as number) > 0)
    .sort((a, b) => (area[b] as number) - (area[a] as number) || a - b);
  const to = new Uint32Array(n);
  const regions = order.map((l, i): RegionStats => {
    to[l] = i + 1;
    const a = area[l] as number;
    const [r, g, b] = [(sr[l] as number) / a, (sg[l] as number) / a, (sb[l] as number) / a];
    return {
      label: i + 1,
      area: a,
      bbox: {
        left: left[l] as number,
        top: top[l] as number,
        width: (right[l] as number) - (left[l] as number) + 1,
        height: (bottom[l] as number) - (top[l] as number) + 1,
      },
      centroid: { x: round2((sx[l] as number) / a), y: round2((sy[l] as number) / a) },
      mean_colour: {
        r: round2(r),
        g: round2(g),
        b: round2(b),
        hex: `#${hex2(r)}${hex2(g)}${hex2(b)}`,
      },
    };
  });
  return { map: relabel(map, to, regions.length), regions };
}
