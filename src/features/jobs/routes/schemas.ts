import { z } from "@hono/zod-openapi";
import { JOB_KINDS, TaskSpecSchema } from "../../../core/pipeline/task-spec.ts";
import { EMAIL_PREFERENCES, NOTIFICATION_STATUSES } from "../../notifications/index.ts";
import { JobImageIdsSchema } from "../image-ids.ts";
import { ITEM_STATUSES, JOB_STATUSES } from "../types.ts";

export const JobIdParams = z.object({
  id: z.uuid({ error: "Expected a job id (a UUID)" }).openapi({
    param: { name: "id", in: "path" },
    example: "019aa3f2-6b1e-7000-8a4f-3c2d1e0f9a8b",
  }),
});

export const NotifySchema = z
  .enum(EMAIL_PREFERENCES, {
    error: `Expected one of ${EMAIL_PREFERENCES.join(", ")} for notify`,
  })
  .openapi({
    description:
      "Email for this job: `always`, `failure` (failed or partially failed) or `never`; " +
      "default: the owner's preference (`GET /v1/me/notifications`). Webhooks are not affected.",
  });

export const ProgressSchema = z
  .object({
    total: z.number().int(),
    done: z.number().int().openapi({ description: "Items that succeeded." }),
    failed: z.number().int(),
    canceled: z.number().int(),
    percent: z.number().int().openapi({ description: "Finished items (any outcome), 0–100." }),
  })
  .openapi("JobProgress");

export const JobSchema = z
  .object({
    id: z.uuid(),
    owner_id: z.uuid().nullable(),
    kind: z.enum(JOB_KINDS),
    params: z.unknown().openapi({ description: "The validated task, e.g. `{transform: {…}}`." }),
    notify: z.enum(EMAIL_PREFERENCES).nullable(),
    status: z.enum(JOB_STATUSES),
    progress: ProgressSchema,
    created_at: z.iso.datetime(),
    started_at: z.iso.datetime().nullable(),
    finished_at: z.iso.datetime().nullable(),
    cancel_requested_at: z.iso.datetime().nullable(),
    error: z.string().nullable(),
  })
  .openapi("Job");

export const JobNotificationSchema = z
  .object({
    id: z.uuid(),
    channel: z.enum(["email", "webhook"]),
    target: z.string().openapi({ description: "The email address, or the webhook's id." }),
    event: z.string().openapi({ example: "job.succeeded" }),
    status: z.enum(NOTIFICATION_STATUSES).openapi({
      description:
        "`outboxed`: an email written to the outbox (`GET /v1/me/outbox`) because SMTP_URL is not set, never sent.",
    }),
    attempts: z.number().int(),
    last_error: z.string().nullable(),
    next_attempt_at: z.iso.datetime().nullable(),
    sent_at: z.iso.datetime().nullable().openapi({
      description: "When it was sent, or written to the outbox.",
    }),
    created_at: z.iso.datetime(),
  })
  .openapi("JobNotification");

export const JobDetailSchema = JobSchema.extend({
  notifications: z.array(JobNotificationSchema).openapi({
    description: "The emails and webhook deliveries of the finished job, with their state.",
  }),
}).openapi("JobDetail");

export const JobItemSchema = z
  .object({
    id: z.uuid(),
    job_id: z.uuid(),
    position: z.number().int().openapi({ description: "The image's place in the job, from 0." }),
    image_id: z.uuid(),
    status: z.enum(ITEM_STATUSES),
    attempts: z.number().int(),
    result_id: z
      .uuid()
      .nullable()
      .openapi({
        description:
          "What the item produced: the derived image (`/v1/images/{id}`), the segmentation " +
          "(`/v1/segmentations/{id}`), or for a histogram its image (`/v1/images/{id}/histogram`).",
      }),
    result_kind: z.enum(["image", "segmentation", "histogram"]).nullable(),
    error: z.string().nullable().openapi({
      description: "Why the last attempt failed (kept while `retrying`, the reason when `failed`).",
    }),
    started_at: z.iso.datetime().nullable(),
    finished_at: z.iso.datetime().nullable(),
    next_attempt_at: z.iso.datetime().nullable().openapi({
      description: "When a `retrying` item runs again (attempt `attempts + 1`); null otherwise.",
    }),
  })
  .openapi("JobItem");

export const JobPageSchema = z
  .object({ items: z.array(JobSchema), next_cursor: z.string().nullable() })
  .openapi("JobPage");

export const JobItemPageSchema = z
  .object({ items: z.array(JobItemSchema), next_cursor: z.string().nullable() })
  .openapi("JobItemPage");

export const CreateJobSchema = z
  .object({
    image_ids: JobImageIdsSchema,
    // .meta, zod's own: TaskSpecSchema may be built before @hono/zod-openapi adds .openapi.
    task: TaskSpecSchema.meta({
      description:
        "Exactly one of `transform` (the body of `POST /v1/images/{id}/transform`), " +
        "`histogram` (`{space, bins}`) or `segmentation` (the body of " +
        "`POST /v1/images/{id}/segmentations`).",
      example: { transform: { operations: [{ op: "resize", width: 400 }], format: "webp" } },
    }),
    notify: NotifySchema.optional(),
  })
  .openapi("CreateJob");
