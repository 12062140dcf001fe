import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../http/env.ts";
import { problemResponses } from "../../../http/problem.ts";
import { ImageIdParams } from "./schemas.ts";

const route = createRoute({
  method: "delete",
  path: "/{id}",
  tags: ["images"],
  summary: "Delete an image",
  description: "The stored bytes go too when no other image record uses them.",
  request: { params: ImageIdParams },
  responses: {
    204: { description: "Deleted" },
    ...problemResponses("not_found", "validation_failed"),
  },
});

export function registerDeleteImage(app: App) {
  return app.openapi(route, async (c) => {
    await c.var.services.images.remove(c.var.principal, c.req.valid("param").id);
    return c.body(null, 204);
  });
}
