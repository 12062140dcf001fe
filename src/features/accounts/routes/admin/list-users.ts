import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../../../http/env.ts";
import { problemResponses } from "../../../../http/problem.ts";
import { pageQuery } from "../../../../http/validation.ts";
import { UserSchema } from "../auth/schemas.ts";

const route = createRoute({
  method: "get",
  path: "/users",
  tags: ["admin"],
  summary: "Every account, oldest first",
  request: {
    query: pageQuery(),
  },
  responses: {
    200: {
      description: "One page of accounts",
      content: {
        "application/json": {
          schema: z
            .object({ items: z.array(UserSchema), next_cursor: z.string().nullable() })
            .openapi("UserPage"),
        },
      },
    },
    ...problemResponses("forbidden", "validation_failed"),
  },
});

export function registerListUsers(app: App) {
  return app.openapi(route, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    return c.json(await c.var.services.users.list({ limit, cursor }), 200);
  });
}
