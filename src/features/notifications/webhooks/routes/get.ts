import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../../http/env.ts";
import { problemResponses } from "../../../../http/problem.ts";
import { WebhookIdParams, WebhookSchema } from "./schemas.ts";

const route = createRoute({
  method: "get",
  path: "/{id}",
  tags: ["notifications"],
  summary: "A webhook (without its secret)",
  request: { params: WebhookIdParams },
  responses: {
    200: {
      description: "The webhook",
      content: { "application/json": { schema: WebhookSchema } },
    },
    ...problemResponses("not_found", "validation_failed"),
  },
});

export function registerGetWebhook(app: App) {
  return app.openapi(route, async (c) =>
    c.json(await c.var.services.webhooks.get(c.var.principal.userId, c.req.valid("param").id), 200),
  );
}
