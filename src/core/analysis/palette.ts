import { expectInteger } from "../imaging/kernels/validate.ts";
import type { RgbaImage } from "../imaging/raster.ts";
import { rgbToLab } from "./histogram.ts";

export type PaletteColour = {
  /** `#rrggbb`: the mean colour of the pixels in this cluster. */
  hex: string;
  rgb: [number, number, number];
  /** CIE L*a*b* (D65) of `rgb`. */
  lab: [number, number, number];
  /** Pixels in this cluster. */
  pixels: number;
  /** `pixels` over all pixels counted; the shares of a palette sum to 1. */
  share: number;
};

export type Palette = {
  /** Pixels counted: alpha 0 is not. */
  pixels: number;
  /** At most the requested number of colours, largest share first. */
  colors: PaletteColour[];
};

export const MAX_PALETTE_COLOURS = 16;

// Colours are first counted in a histogram of 5 bits per channel (32768 cells): one pass over the
// pixels, after which everything works on the occupied cells, whatever the image's size.
const BITS = 5;
const CELLS = 1 << (3 * BITS);
const KMEANS_ROUNDS = 8;

/** The occupied cells of the colour histogram: pixel count and mean RGB of each. */
type Cells = { count: Float64Array; r: Float64Array; g: Float64Array; b: Float64Array };

/**
 * The dominant colours of an RGBA image: median cut on a 5-bit-per-channel colour histogram,
 * refined by a few rounds of k-means in CIE L*a*b* over the histogram's cells, weighted by their
 * pixel counts. Each colour is the mean of the pixels of its cluster, so an image of up to
 * `colors` colours, each in a cell of its own, gets exactly those colours back. Pixels with
 * alpha 0 are not counted. Deterministic; does not mutate `img`.
 *
 * @example
 * const { colors } = paletteRgba(img, 5);
 * colors[0]; // { hex: "#ff0000", rgb: [255, 0, 0], lab: [53.24, 80.09, 67.2], pixels: 600, share: 0.6 }
 */
export function paletteRgba(img: RgbaImage, colors: number): Palette {
  expectInteger("colors", colors, 1, MAX_PALETTE_COLOURS);
  const { cells, pixels } = countCells(img);
  if (pixels === 0) return { pixels, colors: [] };
  const boxes = medianCut(cells, colors);
  const clusters = refineInLab(cells, boxes);
  const out: PaletteColour[] = [];
  for (const members of clusters) {
    let n = 0;
    let r = 0;
    let g = 0;
    let b = 0;
    for (const i of members) {
      n += cells.count[i] as number;
      r += (cells.r[i] as number) * (cells.count[i] as number);
      g += (cells.g[i] as number) * (cells.count[i] as number);
      b += (cells.b[i] as number) * (cells.count[i] as number);
    }
    if (n === 0) continue;
    const rgb: [number, number, number] = [Math.round(r / n), Math.round(g / n), Math.round(b / n)];
    out.push({ hex: hexOf(rgb), rgb, lab: rgbToLab(...rgb), pixels: n, share: n / pixels });
  }
  // Ties broken by colour, so that equal inputs always list in the same order.
  out.sort((x, y) => y.pixels - x.pixels || (x.hex < y.hex ? -1 : x.hex > y.hex ? 1 : 0));
  return { pixels, colors: out };
}

const hexOf = (rgb: readonly number[]) =>
  `#${rgb.map((v) => v.toString(16).padStart(2, "0")).join("")}`;

/** One pass over the pixels: count and mean RGB of each occupied 5-bit cell. */
function countCells(img: RgbaImage): { cells: Cells; pixels: number } {
  const d = img.data;
  const count = new Uint32Array(CELLS);
  // Sums of levels reach 255 × 50 MP, past 32 bits: doubles hold them exactly.
  const sr = new Float64Array(CELLS);
  const sg = new Float64Array(CELLS);
  const sb = new Float64Array(CELLS);
  let pixels = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] === 0) continue;
    const r = d[i] as number;
    const g = d[i + 1] as number;
    const b = d[i + 2] as number;
    const k = ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3);
    count[k] = (count[k] as number) + 1;
    sr[k] = (sr[k] as number) + r;
    sg[k] = (sg[k] as number) + g;
    sb[k] = (sb[k] as number) + b;
    pixels++;
  }
  let occupied = 0;
  for (let k = 0; k < CELLS; k++) if (count[k] !== 0) occupied++;
  const cells: Cells = {
    count: new Float64Array(occupied),
    r: new Float64Array(occupied),
    g: new Float64Array(occupied),
    b: new Float64Array(occupied),
  };
  for (let k = 0, j = 0; k < CELLS; k++) {
    const n = count[k] as number;
    if (n === 0) continue;
    cells.count[j] = n;
    cells.r[j] = (sr[k] as number) / n;
    cells.g[j] = (sg[k] as number) / n;
    cells.b[j] = (sb[k] as number) / n;
    j++;
  }
  return { cells, pixels };
}

/** A box of median cut: some cells, and how much splitting it would gain. */
type Box = { members: number[]; error: number; axis: Float64Array };

/**
 * Median cut: starting from one box of all cells, split the box with the largest squared error
 * (pixels × variance) at the weighted median of its widest channel, until there are `k` boxes or
 * no box holds two cells.
 */
function medianCut(cells: Cells, k: number): number[][] {
  const all = Array.from({ length: cells.count.length }, (_, i) => i);
  const boxes = [boxOf(cells, all)];
  while (boxes.length < k) {
    let best = -1;
    for (let i = 0; i < boxes.length; i++) {
      const box = boxes[i] as Box;
      if (box.members.length > 1 && (best < 0 || box.error > (boxes[best] as Box).error)) best = i;
    }
    if (best < 0) break;
    const { members, axis } = boxes[best] as Box;
    const sorted = [...members].sort((a, b) => (axis[a] as number) - (axis[b] as number) || a - b);
    let total = 0;
    for (const i of sorted) total += cells.count[i] as number;
    // The first cut where half the pixels lie before it, keeping at least one cell on each side.
    let cut = 1;
    for (let seen = 0; cut < sorted.length - 1; cut++) {
      seen += cells.count[sorted[cut - 1] as number] as number;
      if (seen * 2 >= total) break;
    }
    boxes.splice(best, 1, boxOf(cells, sorted.slice(0, cut)), boxOf(cells, sorted.slice(cut)));
  }
  return boxes.map((b) => b.members);
}

function boxOf(cells: Cells, members: number[]): Box {
  const channels = [cells.r, cells.g, cells.b];
  let n = 0;
  const sum = [0, 0, 0];
  const sumSq = [0, 0, 0];
  for (const i of members) {
    const w = cells.count[i] as number;
    n += w;
    for (let c = 0; c < 3; c++) {
      const v = (channels[c] as Float64Array)[i] as number;
      sum[c] = (sum[c] as number) + w * v;
      sumSq[c] = (sumSq[c] as number) + w * v * v;
    }
  }
  const errors = sum.map((s, c) => Math.max(0, (sumSq[c] as number) - (s * s) / n));
  const widest = errors.indexOf(Math.max(...errors));
  return {
    members,
    error: errors.reduce((a, b) => a + b, 0),
    axis: channels[widest] as Float64Array,
  };
}

/**
 * k-means in Lab over the cells, weighted by pixel count, starting from the median-cut boxes:
 * median cut splits along RGB axes, which perception does not follow; a few rounds of nearest-
 * centre assignment in Lab (ΔE76) move cells to the cluster they look like.
 */
function refineInLab(cells: Cells, boxes: number[][]): number[][] {
  const n = cells.count.length;
  const lab = new Float64Array(n * 3);
  for (let i = 0; i < n; i++) {
    lab.set(
      rgbToLab(
        Math.round(cells.r[i] as number),
        Math.round(cells.g[i] as number),
        Math.round(cells.b[i] as number),
      ),
      i * 3,
    );
  }
  const k = boxes.length;
  const assignment = new Int32Array(n);
  boxes.forEach((members, c) => {
    for (const i of members) assignment[i] = c;
  });
  const centres = new Float64Array(k * 3);
  for (let round = 0; round < KMEANS_ROUNDS; round++) {
    const weights = new Float64Array(k);
    centres.fill(0);
    for (let i = 0; i < n; i++) {
      const c = assignment[i] as number;
      const w = cells.count[i] as number;
      weights[c] = (weights[c] as number) + w;
      for (let j = 0; j < 3; j++) {
        centres[c * 3 + j] = (centres[c * 3 + j] as number) + w * (lab[i * 3 + j] as number);
      }
    }
    for (let c = 0; c < k; c++) {
      for (let j = 0; j < 3; j++) {
        if (weights[c])
          centres[c * 3 + j] = (centres[c * 3 + j] as number) / (weights[c] as number);
        // An emptied cluster must attract nothing: it stays empty and is dropped.
        else centres[c * 3 + j] = Number.POSITIVE_INFINITY;
      }
    }
    let moved = 0;
    for (let i = 0; i < n; i++) {
      let best = assignment[i] as number;
      let bestD = distanceSq(lab, i, centres, best);
      for (let c = 0; c < k; c++) {
        const d = distanceSq(lab, i, centres, c);
        if (d < bestD) {
          best = c;
          bestD = d;
        }
      }
      if (best !== assignment[i]) {
        assignment[i] = best;
        moved++;
      }
    }
    if (moved === 0) break;
  }
  const clusters: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < n; i++) (clusters[assignment[i] as number] as number[]).push(i);
  return clusters;
}

function distanceSq(lab: Float64Array, i: number, centres: Float64Array, c: number): number {
  const dl = (lab[i * 3] as number) - (centres[c * 3] as number);
  const da = (lab[i * 3 + 1] as number) - (centres[c * 3 + 1] as number);
  const db = (lab[i * 3 + 2] as number) - (centres[c * 3 + 2] as number);
  return dl * dl + da * da + db * db;
}
