import { createRoute } from "@hono/zod-openapi";
import { SegmentationSpecSchema } from "../../../core/segmentation/segmentation-spec.ts";
import type { App } from "../../../http/env.ts";
import { problemResponses } from "../../../http/problem.ts";
import { ImageIdParams } from "../../images/index.ts";
import { SegmentationSchema } from "./schemas.ts";

const route = createRoute({
  method: "post",
  path: "/{id}/segmentations",
  tags: ["analysis"],
  summary: "Segment an image",
  description:
    "`method`: `threshold` (a fixed `threshold` 0–255 on `channel`), `otsu`, `multi-otsu` " +
    "(2–5 `classes`), `adaptive` (local `mean` or `gaussian` over `blockSize`, minus `offset`: " +
    "for uneven lighting), `region-growing` (from `seeds` within `tolerance`, Lab ΔE or RGB; " +
    "without seeds the whole image is split into at most `maxRegions`). Common: `minArea`, " +
    "`fillHoles`, `downscale`, `connectivity` (4 or 8). Coordinates are those of the upright image.",
  request: {
    params: ImageIdParams,
    body: { required: true, content: { "application/json": { schema: SegmentationSpecSchema } } },
  },
  responses: {
    201: {
      description: "The stored segmentation",
      content: { "application/json": { schema: SegmentationSchema } },
    },
    ...problemResponses("not_found", "validation_failed", "unprocessable_image", "unavailable"),
  },
});

export function registerSegmentImage(app: App) {
  return app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const record = await c.var.services.segmentations.create(
      c.var.principal,
      id,
      c.req.valid("json"),
    );
    return c.json(record, 201, { Location: `/v1/segmentations/${record.id}` });
  });
}
