import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../../../http/env.ts";
import { problemResponses } from "../../../../http/problem.ts";
import { pageQuery } from "../../../../http/validation.ts";
import { ApiKeySchema } from "./schemas.ts";

const route = createRoute({
  method: "get",
  path: "/",
  tags: ["auth"],
  summary: "The caller's API keys (prefixes only), newest first",
  request: {
    query: pageQuery(),
  },
  responses: {
    200: {
      description: "One page of keys",
      content: {
        "application/json": {
          schema: z
            .object({ items: z.array(ApiKeySchema), next_cursor: z.string().nullable() })
            .openapi("ApiKeyPage"),
        },
      },
    },
    ...problemResponses("validation_failed"),
  },
});

export function registerListApiKeys(app: App) {
  return app.openapi(route, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    return c.json(await c.var.services.apiKeys.list(c.var.principal, { limit, cursor }), 200);
  });
}
