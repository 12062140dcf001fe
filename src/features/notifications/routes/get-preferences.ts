import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../http/env.ts";
import { problemResponses } from "../../../http/problem.ts";
import { PreferencesSchema } from "./schemas.ts";

const route = createRoute({
  method: "get",
  path: "/notifications",
  tags: ["notifications"],
  summary: "The caller's notification preferences",
  responses: {
    200: {
      description: "The preferences",
      content: { "application/json": { schema: PreferencesSchema } },
    },
    ...problemResponses(),
  },
});

export function registerGetPreferences(app: App) {
  return app.openapi(route, async (c) =>
    c.json(await c.var.services.notifications.getPreferences(c.var.principal.userId), 200),
  );
}
