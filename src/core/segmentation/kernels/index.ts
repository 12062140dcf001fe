/*
 * Segmentation kernels on typed arrays: thresholds (fixed, Otsu, multi-Otsu, adaptive), connected
 * components, hole filling, region growing, and the region measurements. Pure functions that do
 * not mutate their inputs; bad parameters throw RangeErrors worded like sharp's.
 */
export { type AdaptiveOptions, adaptiveThresholdMask } from "./adaptive.ts";
export { channelOf, lumaOf } from "./channels.ts";
export type { ColourMetric } from "./colour.ts";
export { growRegions, type RegionGrowingOptions } from "./grow-regions.ts";
export {
  labelComponents,
  maskOfLabels,
  type RegionStats,
  regionStats,
  removeSmallRegions,
  upscaleLabels,
} from "./labels.ts";
export { fillHoles } from "./morphology.ts";
export { multiOtsuThresholds, otsuThreshold } from "./otsu.ts";
export { type GrowOptions, regionGrow, type Seed } from "./region-grow.ts";
export { thresholdMask } from "./threshold.ts";
export type { BinaryMask, Connectivity, LabelMap } from "./types.ts";
