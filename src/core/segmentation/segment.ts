import type { Codecs, DecodableFormat } from "../formats/codecs.ts";
import { orientationSteps, readExifOrientation } from "../formats/exif.ts";
import { flopRgba, rotateRightAngle } from "../imaging/kernels.ts";
import type { RgbaImage } from "../imaging/raster.ts";
import { zlibDeflate } from "../lib/deflate.ts";
import { PipelineError } from "../pipeline/pipeline.ts";
import {
  adaptiveThresholdMask,
  type BinaryMask,
  channelOf,
  fillHoles,
  growRegions,
  type LabelMap,
  labelComponents,
  lumaOf,
  multiOtsuThresholds,
  otsuThreshold,
  type RegionStats,
  regionGrow,
  regionStats,
  removeSmallRegions,
  thresholdMask,
  upscaleLabels,
} from "./kernels/index.ts";
import type { SegmentationSpec } from "./segmentation-spec.ts";

export type SegmentJob = {
  bytes: Uint8Array;
  format: DecodableFormat;
  spec: SegmentationSpec;
  maxPixels: number;
};

export type Region = RegionStats;

export type SegmentOutput = {
  width: number;
  height: number;
  /** The level(s) chosen, 0–255 on the channel's scale (empty for adaptive and region growing). */
  thresholds: number[];
  count: number;
  /** The largest MAX_LISTED_REGIONS regions, largest first: region i + 1 is label i + 1. */
  regions: Region[];
  /** The label map (0 = background), little-endian Uint32 per pixel, zlib-compressed. */
  labels: Uint8Array;
};

/**
 * Decodes with the EXIF orientation applied: seeds and masks are in the coordinates people see.
 *
 * @example
 * const img = await decodeUpright(codecs, bytes, "jpeg", 50e6); // a 6-oriented 4000×3000 → 3000×4000
 */
export async function decodeUpright(
  codecs: Codecs,
  bytes: Uint8Array,
  format: DecodableFormat,
  maxPixels: number,
): Promise<RgbaImage> {
  let img = await codecs.decode(bytes, format, { maxPixels });
  const { rotate, flop } = orientationSteps(readExifOrientation(bytes, format));
  if (rotate) img = rotateRightAngle(img, rotate);
  if (flop) img = flopRgba(img);
  return img;
}

const valuesOf = (img: RgbaImage, channel: "luma" | "r" | "g" | "b") =>
  channel === "luma" ? lumaOf(img) : channelOf(img, channel);

/** The regions listed with a segmentation, largest first; `count` still counts them all. */
export const MAX_LISTED_REGIONS = 1000;

/** Runs one method on `img`; returns its label map and the thresholds it chose. */
function segmentImage(
  img: RgbaImage,
  spec: SegmentationSpec,
): { map: LabelMap; thresholds: number[] } {
  const { width, height } = img;
  const components = (mask: BinaryMask) =>
    labelComponents(spec.fillHoles ? fillHoles(mask) : mask, spec.connectivity);
  switch (spec.method) {
    case "threshold":
    case "otsu": {
      const values = valuesOf(img, spec.channel);
      const t = spec.method === "otsu" ? otsuThreshold(values) : spec.threshold;
      return {
        map: components(thresholdMask(values, width, height, t, spec.invert)),
        thresholds: [t],
      };
    }
    case "multi-otsu": {
      const values = valuesOf(img, spec.channel);
      const thresholds = multiOtsuThresholds(values, spec.classes);
      // Every pixel belongs to a class: label k + 1 for the k-th class from the darkest. A class
      // holds its upper threshold, as in scikit-image's search (not np.digitize's reading).
      const labels = new Uint32Array(values.length);
      for (let i = 0; i < values.length; i++) {
        let k = 0;
        while (k < thresholds.length && (values[i] as number) > (thresholds[k] as number)) k++;
        labels[i] = k + 1;
      }
      return { map: { labels, width, height, count: spec.classes }, thresholds };
    }
    case "adaptive": {
      const values = valuesOf(img, spec.channel);
      const mask = adaptiveThresholdMask(values, width, height, {
        method: spec.mode,
        blockSize: spec.blockSize,
        offset: spec.offset,
      });
      if (spec.invert)
        mask.data.forEach((v, i) => {
          mask.data[i] = 1 - v;
        });
      return { map: components(mask), thresholds: [] };
    }
    case "region-growing": {
      const options = {
        tolerance: spec.tolerance,
        metric: spec.metric,
        connectivity: spec.connectivity,
      };
      if (spec.seeds?.length) {
        return { map: components(regionGrow(img, spec.seeds, options)), thresholds: [] };
      }
      // A partition of the whole image: no background, so no holes to fill.
      return { map: growRegions(img, { ...options, maxRegions: spec.maxRegions }), thresholds: [] };
    }
  }
}

/**
 * Segments an image by a validated spec: decode upright, optionally on a copy shrunk by
 * `downscale` (seeds scaled with it), drop regions under `minArea`, and measure each region on the
 * full-size image, labels renumbered from the largest region down.
 *
 * @example
 * await runSegmentation(codecs, { bytes, format: "png", maxPixels, spec: { method: "otsu", … } });
 */
export async function runSegmentation(codecs: Codecs, job: SegmentJob): Promise<SegmentOutput> {
  const img = await decodeUpright(codecs, job.bytes, job.format, job.maxPixels);
  const { width, height } = img;
  let spec = job.spec;
  if (spec.method === "region-growing") {
    for (const s of spec.seeds ?? []) {
      if (s.x >= width || s.y >= height) {
        throw new PipelineError(
          `Expected every seed inside the ${width}×${height} image but received (${s.x}, ${s.y})`,
        );
      }
    }
  }
  const f = Math.min(spec.downscale, width, height);
  let work = img;
  if (f > 1) {
    work = await codecs.shrink(img, f, f);
    if (spec.method === "region-growing" && spec.seeds) {
      const { width: w, height: h } = work;
      const seeds = spec.seeds.map((s) => ({
        x: Math.min(w - 1, Math.floor(s.x / f)),
        y: Math.min(h - 1, Math.floor(s.y / f)),
      }));
      spec = { ...spec, seeds };
    }
  }
  let map: LabelMap;
  let thresholds: number[];
  try {
    ({ map, thresholds } = segmentImage(work, spec));
  } catch (err) {
    // The spec was validated; what the kernels still refuse depends on the pixels (too few
    // distinct levels for multi-Otsu's classes): the request's fault, in the kernel's words.
    if (err instanceof RangeError) throw new PipelineError(err.message);
    throw err;
  }
  if (f > 1) map = upscaleLabels(map, width, height);
  if (spec.minArea > 0) map = removeSmallRegions(map, spec.minArea);
  const measured = regionStats(map, img);
  const labels = measured.map.labels;
  return {
    width,
    height,
    thresholds,
    count: measured.map.count,
    regions: measured.regions.slice(0, MAX_LISTED_REGIONS),
    labels: await zlibDeflate(new Uint8Array(labels.buffer, labels.byteOffset, labels.byteLength)),
  };
}
