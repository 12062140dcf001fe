import type postgres from "postgres";
import { uuidv7 } from "../../core/lib/uuid.ts";
import { ApiError } from "../../platform/api-error.ts";
import type { Sql } from "../../platform/database.ts";
import type { OutboxEntry } from "./email/outbox-mailer.ts";
import { eventOf, type JobOutcome, type JobSummary, JobSummarySchema } from "./job-summary.ts";

export const EMAIL_PREFERENCES = ["always", "failure", "never"] as const;
/** `failure`: only jobs that failed or partially failed; a canceled job was the owner's choice. */
export type EmailPreference = (typeof EMAIL_PREFERENCES)[number];

export const DEFAULT_EMAIL_PREFERENCE: EmailPreference = "always";

export type NotificationPreferences = { email: EmailPreference };

/** `outboxed`: written to the email outbox instead of sent (no SMTP_URL). */
export const NOTIFICATION_STATUSES = ["pending", "sending", "sent", "outboxed", "failed"] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

/** A notification as `GET /v1/jobs/{id}` shows it. */
export type NotificationRecord = {
  id: string;
  channel: "email" | "webhook";
  /** The email address, or the webhook's id. */
  target: string;
  event: string;
  status: NotificationStatus;
  attempts: number;
  last_error: string | null;
  next_attempt_at: string | null;
  sent_at: string | null;
  created_at: string;
};

type NotificationRow = Omit<NotificationRecord, "next_attempt_at" | "sent_at" | "created_at"> & {
  next_attempt_at: Date;
  sent_at: Date | null;
  created_at: Date;
};

const NOTIFICATION_COLUMNS =
  "id, channel, target, event, status, attempts, last_error, next_attempt_at, sent_at, created_at";

const toNotification = (r: NotificationRow): NotificationRecord => ({
  ...r,
  // Only a notification still waiting has a next attempt worth showing.
  next_attempt_at: r.status === "pending" ? r.next_attempt_at.toISOString() : null,
  sent_at: r.sent_at?.toISOString() ?? null,
  created_at: r.created_at.toISOString(),
});

/**
 * Whether an email goes out for a job that ended in `status`.
 *
 * @example
 * wantsEmail("failure", "partially_failed"); // true
 * wantsEmail("failure", "succeeded");        // false
 */
export function wantsEmail(preference: EmailPreference, status: JobOutcome): boolean {
  if (preference === "always") return true;
  if (preference === "never") return false;
  return status === "failed" || status === "partially_failed";
}

type OutboxRow = {
  id: string;
  message_id: string;
  sender: string;
  recipient: string;
  subject: string;
  text_body: string;
  html_body: string;
  attachments: OutboxEntry["attachments"];
  notification_id: string | null;
  created_at: Date;
};

/** The pool or a transaction: what enqueueing runs on. */
export type Queryable = postgres.ISql;

export type Page<T> = { items: T[]; next_cursor: string | null };

export type EnqueueInput = {
  job: JobSummary;
  /** The owner's email address; null: no email (webhooks still go). */
  recipient: string | null;
  /** The job's own choice (`notify` in `POST /v1/jobs`), over the owner's preference. */
  notify?: EmailPreference | null | undefined;
};

export type NotificationService = ReturnType<typeof createNotificationService>;

/**
 * Preferences, enqueueing and read models of notifications. Delivery is the dispatcher's
 * (src/features/notifications/delivery-dispatcher.ts): enqueueing only writes rows, so no mail server, however dead,
 * can slow down or fail the job that finished.
 */
export function createNotificationService(deps: {
  sql: Sql;
  /** Called after rows were enqueued outside a caller's transaction (wakes the dispatcher). */
  onEnqueued?: () => void;
}) {
  const { sql, onEnqueued } = deps;

  async function preferences(db: Queryable, ownerId: string): Promise<NotificationPreferences> {
    const [row] = await db<{ email: EmailPreference }[]>`
      SELECT email FROM notification_preferences WHERE owner_id = ${ownerId}`;
    return { email: row?.email ?? DEFAULT_EMAIL_PREFERENCE };
  }

  return {
    getPreferences: (ownerId: string) => preferences(sql, ownerId),

    async updatePreferences(
      ownerId: string,
      patch: Partial<NotificationPreferences>,
    ): Promise<NotificationPreferences> {
      if (patch.email === undefined) return preferences(sql, ownerId);
      if (!EMAIL_PREFERENCES.includes(patch.email))
        throw new ApiError(
          "validation_failed",
          `Expected one of ${EMAIL_PREFERENCES.join(", ")} for email but received ${String(patch.email)}`,
        );
      const [row] = await sql<{ email: EmailPreference }[]>`
        INSERT INTO notification_preferences (owner_id, email) VALUES (${ownerId}, ${patch.email})
        ON CONFLICT (owner_id) DO UPDATE SET email = EXCLUDED.email, updated_at = now()
        RETURNING email`;
      return { email: row?.email ?? patch.email };
    },

    /**
     * Creates the notifications of a finished job: the owner's email (unless their preference or
     * the job's `notify` says otherwise) and one per webhook subscribed to the job's event. Call it
     * in the transaction that records the job's final state, passing that transaction as `db`:
     * the job ends and its notifications exist together, or neither. UNIQUE (job_id, channel,
     * target) makes a repeated call (a redelivered "job finished") create nothing twice.
     *
     * @returns the notifications created by this call
     * @example
     * await sql.begin(async (tx) => {
     *   await tx`UPDATE jobs SET status = 'succeeded' …`;
     *   await notifications.enqueueForJob({ job: summary, recipient: "ada@example.com" }, tx);
     * });
     */
    async enqueueForJob(input: EnqueueInput, db: Queryable = sql): Promise<NotificationRecord[]> {
      const job = JobSummarySchema.parse(input.job);
      const event = eventOf(job.status);
      const payload = sql.json(job as unknown as postgres.JSONValue);
      const created: NotificationRow[] = [];
      const preference = input.notify ?? (await preferences(db, job.owner_id)).email;
      if (input.recipient && wantsEmail(preference, job.status)) {
        created.push(
          ...(await db<NotificationRow[]>`
            INSERT INTO notifications (id, job_id, owner_id, channel, target, event, payload)
            VALUES (${uuidv7()}, ${job.id}, ${job.owner_id}, 'email', ${input.recipient}, ${event}, ${payload})
            ON CONFLICT (job_id, channel, target) DO NOTHING
            RETURNING ${db.unsafe(NOTIFICATION_COLUMNS)}`),
        );
      }
      const hooks = await db<{ id: string }[]>`
        SELECT id FROM webhooks WHERE owner_id = ${job.owner_id} AND ${event} = ANY (events)
        ORDER BY id`;
      for (const hook of hooks) {
        created.push(
          ...(await db<NotificationRow[]>`
            INSERT INTO notifications (id, job_id, owner_id, channel, target, event, payload)
            VALUES (${uuidv7()}, ${job.id}, ${job.owner_id}, 'webhook', ${hook.id}, ${event}, ${payload})
            ON CONFLICT (job_id, channel, target) DO NOTHING
            RETURNING ${db.unsafe(NOTIFICATION_COLUMNS)}`),
        );
      }
      if (created.length > 0 && db === sql) onEnqueued?.();
      return created.map(toNotification);
    },

    /** The notifications of a job, oldest first (for `GET /v1/jobs/{id}` → `notifications`). */
    async listForJob(jobId: string): Promise<NotificationRecord[]> {
      const rows = await sql<NotificationRow[]>`
        SELECT ${sql.unsafe(NOTIFICATION_COLUMNS)} FROM notifications
        WHERE job_id = ${jobId} ORDER BY created_at, id`;
      return rows.map(toNotification);
    },

    /** The owner's outbox (emails written instead of sent, without SMTP_URL), newest first. */
    async listOutbox(
      ownerId: string,
      options: { limit: number; cursor?: string | undefined },
    ): Promise<Page<OutboxEntry>> {
      const rows = await sql<OutboxRow[]>`
        SELECT id, message_id, sender, recipient, subject, text_body, html_body, attachments,
               notification_id, created_at
        FROM email_outbox
        WHERE owner_id = ${ownerId} ${options.cursor ? sql`AND id < ${options.cursor}` : sql``}
        ORDER BY id DESC
        LIMIT ${options.limit + 1}`;
      const items = rows.slice(0, options.limit).map(
        (r): OutboxEntry => ({
          id: r.id,
          message_id: r.message_id,
          from: r.sender,
          to: r.recipient,
          subject: r.subject,
          text: r.text_body,
          html: r.html_body,
          attachments: r.attachments,
          notification_id: r.notification_id,
          created_at: r.created_at.toISOString(),
        }),
      );
      return {
        items,
        next_cursor: rows.length > options.limit ? (items.at(-1)?.id ?? null) : null,
      };
    },
  };
}
