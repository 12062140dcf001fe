import { z } from "@hono/zod-openapi";
import { EMAIL_PREFERENCES } from "../notification-service.ts";

export const PreferencesSchema = z
  .object({
    email: z.enum(EMAIL_PREFERENCES).openapi({
      description:
        "`always` (default): an email when any job ends; `failure`: only when a job failed or " +
        "partially failed; `never`. A job's own `notify` overrides it.",
    }),
  })
  .openapi("NotificationPreferences");

export const PreferencesPatchSchema = z.object({
  email: z
    .enum(EMAIL_PREFERENCES, {
      error: `Expected one of ${EMAIL_PREFERENCES.join(", ")} for email`,
    })
    .optional(),
});

export const OutboxEntrySchema = z
  .object({
    id: z.uuid(),
    message_id: z.string(),
    from: z.string(),
    to: z.string(),
    subject: z.string(),
    text: z.string(),
    html: z.string(),
    attachments: z.array(
      z.object({ filename: z.string(), content_type: z.string(), bytes: z.number().int() }),
    ),
    notification_id: z.uuid().nullable(),
    created_at: z.iso.datetime(),
  })
  .openapi("OutboxEntry");

export const OutboxPageSchema = z
  .object({ items: z.array(OutboxEntrySchema), next_cursor: z.string().nullable() })
  .openapi("OutboxPage");
