import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../http/env.ts";
import { problemResponses } from "../../../http/problem.ts";
import { ImageIdParams, ImageSchema } from "./schemas.ts";

const route = createRoute({
  method: "get",
  path: "/{id}",
  tags: ["images"],
  summary: "An image's metadata",
  request: { params: ImageIdParams },
  responses: {
    200: { description: "The image", content: { "application/json": { schema: ImageSchema } } },
    ...problemResponses("not_found", "validation_failed"),
  },
});

export function registerGetImage(app: App) {
  return app.openapi(route, async (c) =>
    c.json(await c.var.services.images.get(c.var.principal, c.req.valid("param").id), 200),
  );
}
