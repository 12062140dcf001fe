import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../../http/env.ts";
import { problemResponses } from "../../../../http/problem.ts";
import { UserSchema } from "../auth/schemas.ts";
import { UserIdParams } from "./schemas.ts";

const route = createRoute({
  method: "get",
  path: "/users/{id}",
  tags: ["admin"],
  summary: "An account",
  request: { params: UserIdParams },
  responses: {
    200: { description: "The account", content: { "application/json": { schema: UserSchema } } },
    ...problemResponses("forbidden", "not_found", "validation_failed"),
  },
});

export function registerGetUser(app: App) {
  return app.openapi(route, async (c) =>
    c.json(await c.var.services.users.get(c.req.valid("param").id), 200),
  );
}
