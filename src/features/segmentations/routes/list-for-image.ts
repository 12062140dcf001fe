import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../http/env.ts";
import { problemResponses } from "../../../http/problem.ts";
import { pageQuery } from "../../../http/validation.ts";
import { ImageIdParams } from "../../images/index.ts";
import { SegmentationPageSchema } from "./schemas.ts";

const route = createRoute({
  method: "get",
  path: "/{id}/segmentations",
  tags: ["analysis"],
  summary: "An image's segmentations, newest first",
  request: {
    params: ImageIdParams,
    query: pageQuery(),
  },
  responses: {
    200: {
      description: "One page",
      content: { "application/json": { schema: SegmentationPageSchema } },
    },
    ...problemResponses("not_found", "validation_failed"),
  },
});

export function registerListImageSegmentations(app: App) {
  return app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const { limit, cursor } = c.req.valid("query");
    return c.json(
      await c.var.services.segmentations.listForImage(c.var.principal, id, {
        limit,
        cursor,
      }),
      200,
    );
  });
}
