import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../../http/env.ts";
import { problemResponses } from "../../../http/problem.ts";
import { pageQuery } from "../../../http/validation.ts";
import { ImageSchema } from "./schemas.ts";

const route = createRoute({
  method: "get",
  path: "/",
  tags: ["images"],
  summary: "List images, newest first",
  request: {
    query: pageQuery(),
  },
  responses: {
    200: {
      description: "One page of images",
      content: {
        "application/json": {
          schema: z
            .object({ items: z.array(ImageSchema), next_cursor: z.string().nullable() })
            .openapi("ImagePage"),
        },
      },
    },
    ...problemResponses("validation_failed"),
  },
});

export function registerListImages(app: App) {
  return app.openapi(route, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    return c.json(await c.var.services.images.list(c.var.principal, { limit, cursor }), 200);
  });
}
