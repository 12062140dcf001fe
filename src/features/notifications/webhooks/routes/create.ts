import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../../http/env.ts";
import { problemResponses } from "../../../../http/problem.ts";
import { CreateWebhookSchema, NewWebhookSchema } from "./schemas.ts";

const route = createRoute({
  method: "post",
  path: "/",
  tags: ["notifications"],
  summary: "Register a webhook",
  description:
    "Each event is POSTed as JSON with a `Pictor-Signature: t=<unix>,v1=<hex HMAC-SHA256>` " +
    "header (see docs/jobs-and-notifications.md). Only https URLs with public addresses are " +
    "accepted, unless the server allows more (WEBHOOK_ALLOW_HTTP_HOSTS, WEBHOOK_ALLOW_PRIVATE). " +
    "The answer carries the signing secret once.",
  request: {
    body: { required: true, content: { "application/json": { schema: CreateWebhookSchema } } },
  },
  responses: {
    201: {
      description: "The webhook and its secret, shown this once",
      content: { "application/json": { schema: NewWebhookSchema } },
    },
    ...problemResponses("validation_failed"),
  },
});

export function registerCreateWebhook(app: App) {
  return app.openapi(route, async (c) => {
    const body = c.req.valid("json");
    const created = await c.var.services.webhooks.create(c.var.principal.userId, body);
    return c.json(created, 201, {
      Location: `/v1/webhooks/${created.id}`,
      "Cache-Control": "no-store",
    });
  });
}
