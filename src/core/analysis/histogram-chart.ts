import { createRgba, type RgbaImage } from "../imaging/raster.ts";
import { GLYPH_ADVANCE, GLYPH_HEIGHT, glyph, textWidth } from "./bitmap-font.ts";
import type { ColourSpace, Histogram } from "./histogram.ts";

export type Rgb = readonly [number, number, number];
export type Point = readonly [number, number];

/**
 * What a chart is made of, in paint order, in pixel coordinates (y down). Both the SVG and the
 * raster are drawn from this one list, so they agree.
 */
export type Shape =
  /** A closed polygon, filled. */
  | { kind: "area"; points: Point[]; colour: Rgb; opacity: number }
  /** A channel's histogram: a path of its own in SVG. */
  | { kind: "curve"; channel: string; points: Point[]; colour: Rgb; width: number }
  /** Axes, ticks and grid lines. */
  | { kind: "line"; points: Point[]; colour: Rgb; width: number }
  /** `y` is the baseline; `scale` multiplies the 5×7 font (cap height 7 × scale pixels). */
  | {
      kind: "text";
      x: number;
      y: number;
      text: string;
      scale: number;
      colour: Rgb;
      anchor: "start" | "middle" | "end";
    };

export type ChartModel = {
  width: number;
  height: number;
  title: string;
  background: Rgb;
  shapes: Shape[];
};

const WIDTH = 800;
const MARGIN = { left: 64, right: 24, top: 44, bottom: 40 };
const PANEL_GAP = 44;
const INK: Rgb = [51, 51, 51];
const GRID: Rgb = [229, 229, 229];
const GREY: Rgb = [85, 85, 85];

// Keyed by space, since "b" is blue in RGB and the blue–yellow axis in Lab.
const CHANNEL_COLOURS: Record<ColourSpace, Record<string, Rgb>> = {
  rgb: { r: [214, 39, 40], g: [44, 160, 44], b: [31, 119, 180] },
  luma: { y: GREY },
  hsv: { h: [148, 103, 189], s: [255, 127, 14], v: GREY },
  lab: { l: GREY, a: [194, 24, 91], b: [214, 150, 0] },
};

export const CHART_SCALES = ["linear", "log"] as const;
/** The count axis: `log` keeps a photo's few huge bins (clipped 0 and 255) from flattening the rest. */
export type ChartScale = (typeof CHART_SCALES)[number];

/**
 * Lays out the chart of a histogram: RGB's channels (or luma) overlaid on one panel, HSV's and
 * Lab's on a panel each, since their ranges differ. Each panel has its own axes: counts up the
 * side (linear, or by decades with `scale: "log"`), bin edges along the bottom. Lab's a and b
 * axes span the bins that hold pixels (rounded out to a tick), not their whole −128…128, where
 * most photos fill a narrow middle. 800 pixels wide, 400 high for one panel.
 *
 * @example
 * const svg = chartSvg(histogramChart(histogramRgba(img, "rgb", 256), { scale: "log" }));
 */
export function histogramChart(h: Histogram, options: { scale?: ChartScale } = {}): ChartModel {
  const scale = options.scale ?? "linear";
  const overlaid = h.space === "rgb" || h.space === "luma";
  const panels = overlaid ? [h.channels] : h.channels.map((c) => [c]);
  const panelHeight = overlaid ? 316 : 150;
  const height =
    MARGIN.top + panels.length * panelHeight + (panels.length - 1) * PANEL_GAP + MARGIN.bottom;
  const title = `${h.space} histogram, ${h.bins} bins, ${h.pixels} pixels${scale === "log" ? ", log scale" : ""}`;
  const shapes: Shape[] = [
    { kind: "text", x: WIDTH / 2, y: 28, text: title, scale: 2, colour: INK, anchor: "middle" },
  ];
  panels.forEach((channels, p) => {
    const top = MARGIN.top + p * (panelHeight + PANEL_GAP);
    const box = { left: MARGIN.left, right: WIDTH - MARGIN.right, top, bottom: top + panelHeight };
    shapes.push(...panelShapes(h.space, channels, box, scale));
  });
  return { width: WIDTH, height, title, background: [255, 255, 255], shapes };
}

type Box = { left: number; right: number; top: number; bottom: number };

function panelShapes(
  space: ColourSpace,
  channels: Histogram["channels"],
  box: Box,
  scale: ChartScale,
): Shape[] {
  const shapes: Shape[] = [];
  const first = channels[0];
  if (!first) return shapes;
  const edges = first.edges;
  const bins = edges.length - 1;
  const fit = space === "lab" && first.name !== "l";
  const view = (fit && fittedBins(channels, edges)) || {
    from: 0,
    to: bins,
    ticks: edgeTicks(bins).map((i) => edges[i] as number),
  };
  const lo = edges[view.from] as number;
  const hi = edges[view.to] as number;
  const counts = channels.map((c) => c.counts.slice(view.from, view.to));
  const axis = countAxis(Math.max(1, ...counts.flat()), scale);
  const x = (v: number) => box.left + ((v - lo) / (hi - lo)) * (box.right - box.left);
  const y = (count: number) => box.bottom - axis.fraction(count) * (box.bottom - box.top);
  // Lines of width 1 sit on pixel centres, so that both renderings draw them crisp.
  const crisp = (v: number) => Math.round(v) + 0.5;

  for (const v of axis.ticks) {
    const gy = crisp(y(v));
    if (v > 0) shapes.push(line([box.left, gy], [box.right, gy], GRID));
    shapes.push(label(box.left - 8, gy + 3.5, compactCount(v), "end"));
  }
  for (const v of view.ticks) {
    const tx = crisp(x(v));
    shapes.push(line([tx, box.bottom], [tx, box.bottom + 5], INK));
    shapes.push(label(tx, box.bottom + 17, formatEdge(v), "middle"));
  }

  // Wide bins are drawn as steps, which is what a histogram is; narrow ones as a line through
  // the bins' centres, which reads better than a comb of 2-pixel steps.
  const stepped = (box.right - box.left) / (view.to - view.from) >= 4;
  channels.forEach((channel, c) => {
    const colour = CHANNEL_COLOURS[space][channel.name] ?? INK;
    const points: Point[] = [];
    (counts[c] as number[]).forEach((count, k) => {
      const i = view.from + k;
      const y0 = y(count);
      if (stepped) points.push([x(edges[i] as number), y0], [x(edges[i + 1] as number), y0]);
      else points.push([x(((edges[i] as number) + (edges[i + 1] as number)) / 2), y0]);
    });
    const start = (points[0] as Point)[0];
    const end = (points[points.length - 1] as Point)[0];
    shapes.push({
      kind: "area",
      points: [[start, box.bottom], ...points, [end, box.bottom]],
      colour,
      opacity: channels.length > 1 ? 0.12 : 0.18,
    });
    if (stepped) {
      points.unshift([start, box.bottom]);
      points.push([end, box.bottom]);
    }
    shapes.push({ kind: "curve", channel: channel.name, points, colour, width: 1.5 });
  });

  const axisX = crisp(box.left);
  const axisY = crisp(box.bottom);
  shapes.push({
    kind: "line",
    points: [
      [axisX, box.top],
      [axisX, axisY],
      [box.right, axisY],
    ],
    colour: INK,
    width: 1,
  });
  // The legend names the channels in their colours, right-aligned above the plot.
  let lx = box.right;
  for (const channel of [...channels].reverse()) {
    const colour = CHANNEL_COLOURS[space][channel.name] ?? INK;
    shapes.push({
      kind: "text",
      x: lx,
      y: box.top - 6,
      text: channel.name,
      scale: 2,
      colour,
      anchor: "end",
    });
    lx -= textWidth(channel.name, 2) + 16;
  }
  return shapes;
}

const line = (a: Point, b: Point, colour: Rgb): Shape => ({
  kind: "line",
  points: [a, b],
  colour,
  width: 1,
});

const label = (x: number, y: number, text: string, anchor: "end" | "middle"): Shape => ({
  kind: "text",
  x,
  y,
  text,
  scale: 1,
  colour: INK,
  anchor,
});

/** The round step (1, 2 or 5 × 10ⁿ) at least `raw`. */
function niceStep(raw: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
}

type CountAxis = { ticks: number[]; fraction: (count: number) => number };

/**
 * The count axis up to at least `top`: linear in round steps (3 to 6 ticks from 0), or
 * logarithmic in decades (0, 1, 10, 100, …) over 1 + count, so that an empty bin sits on the
 * baseline and a bin of 1 is still seen.
 */
function countAxis(top: number, scale: ChartScale): CountAxis {
  if (scale === "log") {
    const decades = Math.max(1, Math.ceil(Math.log10(top)));
    const span = Math.log10(1 + 10 ** decades);
    return {
      ticks: [0, ...Array.from({ length: decades + 1 }, (_, d) => 10 ** d)],
      fraction: (count) => Math.log10(1 + count) / span,
    };
  }
  const step = Math.max(1, niceStep(top / 4));
  const max = Math.ceil(top / step) * step;
  return {
    ticks: Array.from({ length: max / step + 1 }, (_, k) => k * step),
    fraction: (count) => count / max,
  };
}

/**
 * The bins from the first to the last that hold a pixel in any of `channels` (at least a
 * sixteenth of the range), widened to round values about 6 ticks apart, and those ticks; null
 * when every bin is empty.
 */
function fittedBins(
  channels: Histogram["channels"],
  edges: number[],
): { from: number; to: number; ticks: number[] } | null {
  const bins = edges.length - 1;
  const used = (i: number) => channels.some((c) => (c.counts[i] ?? 0) > 0);
  let first = 0;
  while (first < bins && !used(first)) first++;
  if (first === bins) return null;
  let last = bins - 1;
  while (!used(last)) last--;
  // At least a sixteenth of the whole range: a grey image's one bin is not stretched 800 wide.
  const min = edges[0] as number;
  const max = edges[bins] as number;
  const half =
    Math.max((edges[last + 1] as number) - (edges[first] as number), (max - min) / 16) / 2;
  const centre = ((edges[first] as number) + (edges[last + 1] as number)) / 2;
  const step = niceStep((2 * half) / 6);
  const lo = Math.max(min, Math.floor((centre - half) / step) * step);
  const hi = Math.min(max, Math.ceil((centre + half) / step) * step);
  let from = first;
  while (from > 0 && (edges[from] as number) > lo) from--;
  let to = last + 1;
  while (to < bins && (edges[to] as number) < hi) to++;
  const ticks: number[] = [];
  const start = edges[from] as number;
  const end = edges[to] as number;
  for (let k = Math.ceil(start / step); k * step <= end; k++) ticks.push(k * step);
  return { from, to, ticks };
}

/** About 8 evenly spaced bin edges, always the first and the last. */
function edgeTicks(bins: number): number[] {
  const every = Math.ceil(bins / 8);
  const ticks: number[] = [];
  for (let i = 0; i <= bins; i += every) ticks.push(i);
  const last = ticks[ticks.length - 1] as number;
  if (last !== bins) {
    if (bins - last < every / 2) ticks.pop();
    ticks.push(bins);
  }
  return ticks;
}

/** 950, 1.25k, 12.5k, 2.5M: short enough for the margin. */
function compactCount(n: number): string {
  const short = (v: number) => String(Number(v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)));
  if (n >= 1e6) return `${short(n / 1e6)}M`;
  if (n >= 1e3) return `${short(n / 1e3)}k`;
  return String(n);
}

const formatEdge = (v: number) => String(Number(v.toFixed(3)));

const hex = (c: Rgb) => `#${c.map((v) => v.toString(16).padStart(2, "0")).join("")}`;
const num = (v: number) => String(Math.round(v * 100) / 100);
const coords = (points: Point[]) => points.map(([px, py]) => `${num(px)},${num(py)}`).join(" ");
const escapeXml = (s: string) =>
  s.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c] ?? c);

/**
 * The chart as a standalone SVG document. Text uses a monospace font sized like the raster's
 * bitmap font (cap height 7 × scale, advance 6 × scale), so both lay out alike.
 *
 * @example
 * new Response(chartSvg(model), { headers: { "Content-Type": "image/svg+xml" } });
 */
export function chartSvg(model: ChartModel): string {
  const { width, height } = model;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="ui-monospace, Menlo, Consolas, 'DejaVu Sans Mono', monospace">`,
    `<title>${escapeXml(model.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="${hex(model.background)}"/>`,
  ];
  for (const s of model.shapes) {
    switch (s.kind) {
      case "area":
        out.push(
          `<polygon points="${coords(s.points)}" fill="${hex(s.colour)}" fill-opacity="${s.opacity}"/>`,
        );
        break;
      case "curve": {
        const d = s.points.map(([px, py], i) => `${i ? "L" : "M"}${num(px)} ${num(py)}`).join("");
        out.push(
          `<path data-channel="${escapeXml(s.channel)}" d="${d}" fill="none" stroke="${hex(s.colour)}" stroke-width="${s.width}" stroke-linejoin="round"/>`,
        );
        break;
      }
      case "line":
        out.push(
          `<polyline points="${coords(s.points)}" fill="none" stroke="${hex(s.colour)}" stroke-width="${s.width}"/>`,
        );
        break;
      case "text":
        out.push(
          `<text x="${num(s.x)}" y="${num(s.y)}" font-size="${10 * s.scale}" text-anchor="${s.anchor}" fill="${hex(s.colour)}">${escapeXml(s.text)}</text>`,
        );
        break;
    }
  }
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}

/**
 * The chart rasterised to RGBA: anti-aliased lines and polygon fills composited through a
 * coverage buffer, one shape at a time (so a polyline's joints are not blended twice), and text
 * in the 5×7 bitmap font.
 *
 * @example
 * const png = await codecs.encode(chartRgba(model), { format: "png" });
 */
export function chartRgba(model: ChartModel): RgbaImage {
  const img = createRgba(model.width, model.height);
  const [br, bg, bb] = model.background;
  for (let i = 0; i < img.data.length; i += 4) {
    img.data[i] = br;
    img.data[i + 1] = bg;
    img.data[i + 2] = bb;
    img.data[i + 3] = 255;
  }
  const coverage = new Float32Array(model.width * model.height);
  for (const s of model.shapes) {
    if (s.kind === "text") drawText(img, s);
    else {
      const bounds =
        s.kind === "area"
          ? fillPolygon(coverage, model.width, model.height, s.points)
          : strokePolyline(coverage, model.width, model.height, s.points, s.width);
      composite(img, coverage, bounds, s.colour, s.kind === "area" ? s.opacity : 1);
    }
  }
  return img;
}

type Bounds = { x0: number; y0: number; x1: number; y1: number };

/** Blends `colour` where `coverage` is set inside `bounds`, and clears it there. */
function composite(
  img: RgbaImage,
  coverage: Float32Array,
  b: Bounds,
  colour: Rgb,
  opacity: number,
) {
  const d = img.data;
  for (let py = b.y0; py < b.y1; py++) {
    for (let px = b.x0; px < b.x1; px++) {
      const p = py * img.width + px;
      const a = (coverage[p] as number) * opacity;
      if (a === 0) continue;
      coverage[p] = 0;
      for (let c = 0; c < 3; c++) {
        d[p * 4 + c] = (d[p * 4 + c] as number) * (1 - a) + (colour[c] as number) * a;
      }
    }
  }
}

const clampBounds = (w: number, h: number, x0: number, y0: number, x1: number, y1: number) => ({
  x0: Math.max(0, Math.floor(x0)),
  y0: Math.max(0, Math.floor(y0)),
  x1: Math.min(w, Math.ceil(x1)),
  y1: Math.min(h, Math.ceil(y1)),
});

/**
 * Coverage of a polyline `width` pixels wide: each pixel gets the most of its segments'
 * coverage, estimated from the distance of its centre to the segment (a one-pixel ramp).
 */
function strokePolyline(
  coverage: Float32Array,
  w: number,
  h: number,
  points: readonly Point[],
  width: number,
): Bounds {
  const reach = width / 2 + 0.5;
  let all: Bounds = { x0: w, y0: h, x1: 0, y1: 0 };
  for (let i = 0; i + 1 < points.length; i++) {
    const [ax, ay] = points[i] as Point;
    const [bx, by] = points[i + 1] as Point;
    const b = clampBounds(
      w,
      h,
      Math.min(ax, bx) - reach,
      Math.min(ay, by) - reach,
      Math.max(ax, bx) + reach,
      Math.max(ay, by) + reach,
    );
    all = {
      x0: Math.min(all.x0, b.x0),
      y0: Math.min(all.y0, b.y0),
      x1: Math.max(all.x1, b.x1),
      y1: Math.max(all.y1, b.y1),
    };
    const dx = bx - ax;
    const dy = by - ay;
    const lengthSq = dx * dx + dy * dy;
    for (let py = b.y0; py < b.y1; py++) {
      for (let px = b.x0; px < b.x1; px++) {
        const cx = px + 0.5 - ax;
        const cy = py + 0.5 - ay;
        const t = lengthSq ? Math.max(0, Math.min(1, (cx * dx + cy * dy) / lengthSq)) : 0;
        const dist = Math.hypot(cx - t * dx, cy - t * dy);
        const cov = Math.min(1, Math.max(0, reach - dist));
        const p = py * w + px;
        if (cov > (coverage[p] as number)) coverage[p] = cov;
      }
    }
  }
  return all;
}

/** Coverage of a polygon (even–odd), sampled at pixel centres: fills are light, edges stroked. */
function fillPolygon(coverage: Float32Array, w: number, h: number, points: readonly Point[]) {
  const ys = points.map((p) => p[1]);
  const b = clampBounds(w, h, 0, Math.min(...ys), w, Math.max(...ys) + 1);
  const xs: number[] = [];
  for (let py = b.y0; py < b.y1; py++) {
    const sy = py + 0.5;
    xs.length = 0;
    for (let i = 0; i < points.length; i++) {
      const [ax, ay] = points[i] as Point;
      const [bx, by] = points[(i + 1) % points.length] as Point;
      if (ay <= sy !== by <= sy) xs.push(ax + ((sy - ay) / (by - ay)) * (bx - ax));
    }
    xs.sort((p, q) => p - q);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const from = Math.max(0, Math.ceil((xs[k] as number) - 0.5));
      const to = Math.min(w, Math.ceil((xs[k + 1] as number) - 0.5));
      coverage.fill(1, py * w + from, py * w + to);
    }
  }
  return b;
}

function drawText(img: RgbaImage, s: Extract<Shape, { kind: "text" }>) {
  const { scale } = s;
  const width = textWidth(s.text, scale);
  const left = Math.round(
    s.anchor === "start" ? s.x : s.anchor === "middle" ? s.x - width / 2 : s.x - width,
  );
  const top = Math.round(s.y) - GLYPH_HEIGHT * scale;
  [...s.text].forEach((char, n) => {
    glyph(char).forEach((row, gy) => {
      row.forEach((inked, gx) => {
        if (!inked) return;
        const x0 = left + (n * GLYPH_ADVANCE + gx) * scale;
        const y0 = top + gy * scale;
        for (let py = Math.max(0, y0); py < Math.min(img.height, y0 + scale); py++) {
          for (let px = Math.max(0, x0); px < Math.min(img.width, x0 + scale); px++) {
            img.data.set(s.colour, (py * img.width + px) * 4);
          }
        }
      });
    });
  });
}
