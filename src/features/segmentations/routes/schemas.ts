import { z } from "@hono/zod-openapi";
import { MAX_LISTED_REGIONS } from "../../../core/segmentation/segment.ts";

export const SegmentationIdParams = z.object({
  id: z
    .uuid({ error: "Expected a segmentation id (a UUID)" })
    .openapi({ param: { name: "id", in: "path" } }),
});

const RegionSchema = z.object({
  label: z.number().int().openapi({ description: "1 is the largest region, 2 the next, …" }),
  area: z.number().int().openapi({ description: "Pixels" }),
  bbox: z.object({
    left: z.number().int(),
    top: z.number().int(),
    width: z.number().int(),
    height: z.number().int(),
  }),
  centroid: z
    .object({ x: z.number(), y: z.number() })
    .openapi({ description: "Mean pixel position, pixel centres at integer coordinates." }),
  mean_colour: z
    .object({ r: z.number(), g: z.number(), b: z.number(), hex: z.string() })
    .openapi({ description: "Mean of the region's pixels; hex of the rounded means." }),
});

export const SegmentationSchema = z
  .object({
    id: z.uuid(),
    image_id: z.uuid(),
    method: z.enum(["threshold", "otsu", "multi-otsu", "adaptive", "region-growing"]),
    params: z.unknown().openapi({ description: "The validated parameters, defaults filled in." }),
    thresholds: z
      .array(z.number())
      .openapi({ description: "The level(s) chosen, 0–255 on the scale of the luma histogram." }),
    width: z.number().int(),
    height: z.number().int(),
    region_count: z.number().int(),
    regions: z.array(RegionSchema).openapi({
      description: `Sorted by area, largest first: at most the ${MAX_LISTED_REGIONS} largest of region_count.`,
    }),
    created_at: z.iso.datetime(),
  })
  .openapi("Segmentation");

export const SegmentationPageSchema = z
  .object({ items: z.array(SegmentationSchema), next_cursor: z.string().nullable() })
  .openapi("SegmentationPage");
