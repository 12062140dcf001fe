import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../http/env.ts";
import { problemResponses } from "../../../http/problem.ts";
import { SegmentationIdParams } from "./schemas.ts";

const route = createRoute({
  method: "delete",
  path: "/{id}",
  tags: ["analysis"],
  summary: "Delete a segmentation",
  request: { params: SegmentationIdParams },
  responses: {
    204: { description: "Deleted" },
    ...problemResponses("not_found", "validation_failed"),
  },
});

export function registerDeleteSegmentation(app: App) {
  return app.openapi(route, async (c) => {
    await c.var.services.segmentations.remove(c.var.principal, c.req.valid("param").id);
    return c.body(null, 204);
  });
}
