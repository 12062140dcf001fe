import { z } from "zod";
import { integerIn, numberIn } from "../pipeline/spec-numbers.ts";

/** One validated description of a segmentation: stored with its result, sent to the workers. */

export const SEGMENT_CHANNELS = ["luma", "r", "g", "b"] as const;
const channel = z
  .enum(SEGMENT_CHANNELS, { error: `Expected one of ${SEGMENT_CHANNELS.join(", ")} for channel` })
  .default("luma");

const common = {
  /** Regions smaller than this many pixels are dropped. */
  minArea: integerIn("minArea", 0, 100_000_000).default(0),
  fillHoles: z.boolean().default(false),
  /** Segment a copy shrunk by this factor, then scale the labels back up: faster, coarser. */
  downscale: integerIn("downscale", 1, 16).default(1),
  /** How pixels of a region touch: 4 (edges) or 8 (edges and corners). */
  connectivity: z
    .union([z.literal(4), z.literal(8)], { error: "Expected 4 or 8 for connectivity" })
    .default(8),
};

const Seed = z.object({ x: integerIn("x", 0, 1_000_000), y: integerIn("y", 0, 1_000_000) });

export const SegmentationSpecSchema = z.discriminatedUnion(
  "method",
  [
    z.object({
      method: z.literal("threshold"),
      threshold: integerIn("threshold", 0, 255),
      channel,
      invert: z.boolean().default(false),
      ...common,
    }),
    z.object({ method: z.literal("otsu"), channel, invert: z.boolean().default(false), ...common }),
    z.object({
      method: z.literal("multi-otsu"),
      classes: integerIn("classes", 2, 5).default(3),
      channel,
      ...common,
    }),
    z.object({
      method: z.literal("adaptive"),
      mode: z
        .enum(["mean", "gaussian"], { error: "Expected mean or gaussian for mode" })
        .default("gaussian"),
      blockSize: z
        .number({ error: "Expected an odd integer between 3 and 255 for blockSize" })
        .refine((v) => Number.isInteger(v) && v % 2 === 1 && v >= 3 && v <= 255, {
          error: (issue) =>
            `Expected an odd integer between 3 and 255 for blockSize but received ${String(issue.input)}`,
        })
        .default(35),
      offset: numberIn("offset", -255, 255).default(0),
      channel,
      invert: z.boolean().default(false),
      ...common,
    }),
    z.object({
      method: z.literal("region-growing"),
      /** Seeds grow one region; without seeds the whole image is split into at most maxRegions. */
      seeds: z.array(Seed).max(100, "Expected at most 100 seeds").optional(),
      tolerance: numberIn("tolerance", 0, 200).default(10),
      metric: z.enum(["lab", "rgb"], { error: "Expected lab or rgb for metric" }).default("lab"),
      maxRegions: integerIn("maxRegions", 1, 1000).default(16),
      ...common,
    }),
  ],
  { error: "Expected method to be one of threshold, otsu, multi-otsu, adaptive, region-growing" },
);

export type SegmentationSpec = z.output<typeof SegmentationSpecSchema>;
