import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../../../http/env.ts";
import { problemResponses } from "../../../../http/problem.ts";
import { WebhookSchema } from "./schemas.ts";

const route = createRoute({
  method: "get",
  path: "/",
  tags: ["notifications"],
  summary: "The caller's webhooks (without their secrets)",
  responses: {
    200: {
      description: "Every webhook of the caller, oldest first",
      content: {
        "application/json": {
          schema: z
            .object({ items: z.array(WebhookSchema), next_cursor: z.string().nullable() })
            .openapi("WebhookPage"),
        },
      },
    },
    ...problemResponses(),
  },
});

export function registerListWebhooks(app: App) {
  return app.openapi(route, async (c) =>
    c.json(
      { items: await c.var.services.webhooks.list(c.var.principal.userId), next_cursor: null },
      200,
    ),
  );
}
