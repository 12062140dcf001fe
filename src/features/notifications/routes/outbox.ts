import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../http/env.ts";
import { problemResponses } from "../../../http/problem.ts";
import { pageQuery } from "../../../http/validation.ts";
import { OutboxPageSchema } from "./schemas.ts";

const route = createRoute({
  method: "get",
  path: "/outbox",
  tags: ["notifications"],
  summary: "Emails written instead of sent, newest first",
  description:
    "Without `SMTP_URL` (the embedded default) Pictor sends no email: each one is written here " +
    "(attachments as names and sizes) and logged, to show what would have been sent.",
  request: {
    query: pageQuery(),
  },
  responses: {
    200: {
      description: "One page of the outbox",
      content: { "application/json": { schema: OutboxPageSchema } },
    },
    ...problemResponses("validation_failed"),
  },
});

export function registerListOutbox(app: App) {
  return app.openapi(route, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const page = await c.var.services.notifications.listOutbox(c.var.principal.userId, {
      limit,
      cursor,
    });
    return c.json(page, 200);
  });
}
