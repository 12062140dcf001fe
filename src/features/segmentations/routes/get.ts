import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../http/env.ts";
import { problemResponses } from "../../../http/problem.ts";
import { SegmentationIdParams, SegmentationSchema } from "./schemas.ts";

const route = createRoute({
  method: "get",
  path: "/{id}",
  tags: ["analysis"],
  summary: "A segmentation",
  request: { params: SegmentationIdParams },
  responses: {
    200: {
      description: "The segmentation",
      content: { "application/json": { schema: SegmentationSchema } },
    },
    ...problemResponses("not_found", "validation_failed"),
  },
});

export function registerGetSegmentation(app: App) {
  return app.openapi(route, async (c) =>
    c.json(await c.var.services.segmentations.get(c.var.principal, c.req.valid("param").id), 200),
  );
}
