import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../../http/env.ts";
import { problemResponses } from "../../../../http/problem.ts";
import { WebhookIdParams } from "./schemas.ts";

const route = createRoute({
  method: "delete",
  path: "/{id}",
  tags: ["notifications"],
  summary: "Delete a webhook",
  description: "Deliveries not yet made are dropped (marked failed).",
  request: { params: WebhookIdParams },
  responses: {
    204: { description: "Deleted" },
    ...problemResponses("not_found", "validation_failed"),
  },
});

export function registerDeleteWebhook(app: App) {
  return app.openapi(route, async (c) => {
    await c.var.services.webhooks.remove(c.var.principal.userId, c.req.valid("param").id);
    return c.body(null, 204);
  });
}
