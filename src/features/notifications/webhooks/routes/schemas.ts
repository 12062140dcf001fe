import { z } from "@hono/zod-openapi";
import { JOB_EVENTS } from "../../job-summary.ts";

export const WebhookIdParams = z.object({
  id: z
    .uuid({ error: "Expected a webhook id (a UUID)" })
    .openapi({ param: { name: "id", in: "path" } }),
});

export const WebhookSchema = z
  .object({
    id: z.uuid(),
    url: z.string().openapi({ example: "https://hooks.example.com/pictor" }),
    events: z.array(z.enum(JOB_EVENTS)),
    created_at: z.iso.datetime(),
  })
  .openapi("Webhook");

export const NewWebhookSchema = WebhookSchema.extend({
  secret: z.string().openapi({
    description:
      "The signing secret, shown this once: verify each delivery's `Pictor-Signature` with it.",
    example: "whsec_9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
  }),
}).openapi("NewWebhook");

export const CreateWebhookSchema = z.object({
  url: z
    .string({ error: "Expected a URL for url" })
    .min(1, "Expected a URL for url")
    .max(2048, "Expected at most 2048 characters for url")
    .openapi({ example: "https://hooks.example.com/pictor" }),
  events: z
    .array(z.enum(JOB_EVENTS, { error: `Expected one of ${JOB_EVENTS.join(", ")} for events` }))
    .min(1, "Expected at least one event for events")
    .optional()
    .openapi({ description: "Default: every job event." }),
});
