import { labInto } from "../../analysis/histogram.ts";

/** How colours are compared: ΔE 1976 (Euclidean in CIE L*a*b*, D65) or Euclidean 8-bit RGB. */
export type ColourMetric = "lab" | "rgb";

/** The coordinates of 8-bit r, g, b in the metric's space, into `out[0…2]`. */
export function colourInto(
  metric: ColourMetric,
  r: number,
  g: number,
  b: number,
  out: Float64Array,
): void {
  if (metric === "lab") {
    labInto(r, g, b, out);
  } else {
    out[0] = r;
    out[1] = g;
    out[2] = b;
  }
}

/** Each pixel's coordinates in the metric's space, three floats a pixel. */
export function colourPlanes(data: Uint8ClampedArray, metric: ColourMetric): Float32Array {
  const out = new Float32Array((data.length / 4) * 3);
  const c = new Float64Array(3);
  let previous = -1;
  for (let i = 0, o = 0; i < data.length; i += 4, o += 3) {
    const r = data[i] as number;
    const g = data[i + 1] as number;
    const b = data[i + 2] as number;
    // Neighbours often share a colour (flat areas, upscaled or quantised images): convert once.
    const key = (r << 16) | (g << 8) | b;
    if (key !== previous) {
      colourInto(metric, r, g, b, c);
      previous = key;
    }
    out[o] = c[0] as number;
    out[o + 1] = c[1] as number;
    out[o + 2] = c[2] as number;
  }
  return out;
}

/** Throws a RangeError unless `tolerance` is a finite number ≥ 0 and `metric` lab or rgb. */
export function expectGrowOptions(options: { tolerance: number; metric: string }): void {
  const { tolerance, metric } = options;
  if (!Number.isFinite(tolerance) || tolerance < 0) {
    throw new RangeError(`Expected a number of at least 0 for tolerance but received ${tolerance}`);
  }
  if (metric !== "lab" && metric !== "rgb") {
    throw new RangeError(`Expected lab or rgb for metric but received ${metric}`);
  }
}
