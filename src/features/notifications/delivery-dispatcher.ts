import type { Sql } from "../../platform/database.ts";
import type { Logger } from "../../platform/logger.ts";
import type { EmailAttachment, Mailer } from "../../platform/mailer.ts";
import { type Metrics, noopMetrics } from "../../platform/metrics.ts";
import { DeliveryError } from "./delivery-error.ts";
import { type AttachmentLimits, buildJobEmail } from "./email/job-email.ts";
import { notificationMessageId } from "./email/outbox-mailer.ts";
import {
  type JobEvent,
  type JobResultFile,
  type JobSummary,
  JobSummarySchema,
} from "./job-summary.ts";
import {
  postWebhook,
  type WebhookTransport,
  webhookBody,
  webhookHeaders,
} from "./webhooks/webhook-service.ts";

export type DispatcherSettings = {
  publicUrl: string;
  /** Attempts before a notification is marked failed (NOTIFY_MAX_ATTEMPTS). */
  maxAttempts: number;
  /** Delay before the 2nd attempt; doubles each time (NOTIFY_BACKOFF_MS). */
  backoffMs: number;
  /** Longest delay between attempts (NOTIFY_BACKOFF_MAX_MS). */
  backoffMaxMs: number;
  /** Limit of one SMTP wait or one HTTP hop (NOTIFY_TIMEOUT_MS). */
  timeoutMs: number;
  /** How often the loop looks for due notifications when idle (NOTIFY_POLL_MS). */
  pollMs: number;
  attach: AttachmentLimits;
  /** Deliveries in flight per channel: a hung SMTP server holds only the email slots. */
  concurrency?: number;
  /** How long a claimed notification is ours; past it another dispatcher may retry it. */
  leaseMs?: number;
};

export type DispatcherDeps = {
  sql: Sql;
  mailer: Mailer;
  webhooks: WebhookTransport;
  /** The bytes of a result file (the jobs module knows where results live). */
  readResult(job: JobSummary, result: JobResultFile): Promise<Uint8Array>;
  logger: Logger;
  settings: DispatcherSettings;
  /** [0, 1); the jitter of the backoff. */
  random?: () => number;
  metrics?: Metrics;
};

type Channel = "email" | "webhook";
const CHANNELS: readonly Channel[] = ["email", "webhook"];

type ClaimedRow = {
  id: string;
  job_id: string;
  owner_id: string;
  channel: Channel;
  target: string;
  event: JobEvent;
  payload: unknown;
  attempts: number;
};

/**
 * The delay before attempt `attempt + 1`, after `attempt` failures: exponential, capped, with
 * "equal jitter" (between half and all of it) so that notifications failing together (one dead
 * server) do not all come back at the same instant.
 *
 * @example
 * backoffDelay(1, 1000, 60_000, () => 0.999); // ≈ 1000
 * backoffDelay(3, 1000, 60_000, () => 0);     // 2000 (half of 4000)
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const full = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(full / 2 + (full / 2) * random());
}

/**
 * A webhook URL's path and query can be its credential (chat services put a token there): logs
 * keep the origin only. The owner still sees the whole URL in the notification's `last_error`.
 */
const withoutUrlPaths = (text: string) => text.replace(/\b(https?:\/\/[^\s/?#]+)[^\s]*/g, "$1/…");

export type NotificationDispatcher = ReturnType<typeof createNotificationDispatcher>;

/**
 * Delivers pending notifications: claims due rows with FOR UPDATE SKIP LOCKED (any number of
 * dispatchers in any number of processes share the work), sends, then records the outcome.
 *
 * Exactly once, as far as it can be: a claim is a short transaction that marks the row
 * `sending` with a lease and bumps `attempts`; the send happens outside any transaction (a slow
 * server holds no lock); `sent` is recorded right after, only by the holder of that attempt
 * (`WHERE attempts = <claimed>`). If the process dies between the server's "accepted" and that
 * UPDATE — a window of one round trip — the lease expires and the message is sent again; it
 * carries the same Message-ID / `Pictor-Delivery` id, so the receiver can tell. A notification
 * can never be lost that way, and it is never sent twice by two live dispatchers.
 */
export function createNotificationDispatcher(deps: DispatcherDeps) {
  const { sql, mailer, webhooks, logger, settings } = deps;
  const random = deps.random ?? Math.random;
  const deliveries = (deps.metrics ?? noopMetrics).counter({
    name: "pictor_notification_deliveries_total",
    help: "Notification delivery attempts by channel and outcome: sent, retrying or failed (for good)",
    labelNames: ["channel", "outcome"],
  });
  const concurrency = settings.concurrency ?? 4;
  const leaseMs = settings.leaseMs ?? settings.timeoutMs * 5 + 10_000;
  const inFlight: Record<Channel, Set<Promise<void>>> = { email: new Set(), webhook: new Set() };

  /** Ends leases that expired on their last attempt: nothing will retry those. */
  async function failAbandoned(): Promise<void> {
    const rows = await sql<{ id: string }[]>`
      UPDATE notifications
      SET status = 'failed', lease_until = NULL,
          last_error = 'Delivery interrupted (the sending process stopped) on the last attempt'
      WHERE status = 'sending' AND lease_until < now() AND attempts >= ${settings.maxAttempts}
      RETURNING id`;
    for (const r of rows) logger.warn("notification abandoned", { notification_id: r.id });
  }

  async function claim(channel: Channel, limit: number): Promise<ClaimedRow[]> {
    if (limit <= 0) return [];
    return sql<ClaimedRow[]>`
      UPDATE notifications n
      SET status = 'sending', attempts = n.attempts + 1,
          lease_until = now() + ${leaseMs}::bigint * interval '1 millisecond'
      FROM (
        SELECT id FROM notifications
        WHERE channel = ${channel}
          AND ((status = 'pending' AND next_attempt_at <= now())
            OR (status = 'sending' AND lease_until < now() AND attempts < ${settings.maxAttempts}))
        ORDER BY next_attempt_at
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED
      ) due
      WHERE n.id = due.id
      RETURNING n.id, n.job_id, n.owner_id, n.channel, n.target, n.event, n.payload, n.attempts`;
  }

  /**
   * The job's result files read for attaching, and the summary with every size known, or null
   * when they are too many or too big (the email then only links to them). A histogram's JSON
   * or a segmentation's mask has no stored size: those are read first, to learn it, and reading
   * stops as soon as the total passes NOTIFY_ATTACH_MAX_BYTES.
   */
  async function readAttachments(
    job: JobSummary,
  ): Promise<{ sized: JobSummary; read: Map<string, Uint8Array> } | null> {
    const { maxFiles, maxBytes } = settings.attach;
    const files = job.results;
    if (files.length === 0 || files.length > maxFiles) return null;
    const unsized = (f: JobResultFile) => f.bytes === undefined || f.bytes === null;
    let total = files.reduce((sum, f) => sum + (f.bytes ?? 0), 0);
    if (total > maxBytes) return null;
    const read = new Map<string, Uint8Array>();
    for (const f of [...files.filter(unsized), ...files.filter((f) => !unsized(f))]) {
      const content = await deps.readResult(job, f);
      if (unsized(f)) total += content.byteLength;
      if (total > maxBytes) return null;
      read.set(f.id, content);
    }
    const sized = files.map((f) => ({ ...f, bytes: read.get(f.id)?.byteLength ?? null }));
    return { sized: { ...job, results: sized }, read };
  }

  async function sendEmail(row: ClaimedRow, job: JobSummary): Promise<string> {
    const options = { publicUrl: settings.publicUrl, attach: settings.attach };
    let email = buildJobEmail(job, { ...options, attach: false });
    let files: EmailAttachment[] = [];
    try {
      const attachable = await readAttachments(job);
      if (attachable) {
        email = buildJobEmail(attachable.sized, options);
        files = email.attachments.map((f) => ({
          filename: f.filename,
          contentType: f.content_type,
          content: attachable.read.get(f.id) as Uint8Array,
        }));
      }
    } catch (err) {
      // The results may have been deleted since: the email still goes, with links only.
      logger.warn("results not attached", {
        notification_id: row.id,
        job_id: row.job_id,
        error: err instanceof Error ? err.message : String(err),
      });
      email = buildJobEmail(job, { ...options, attach: false });
    }
    const sent = await mailer.send({
      to: row.target,
      subject: email.subject,
      text: email.text,
      html: email.html,
      attachments: files,
      messageId: notificationMessageId(row.id, settings.publicUrl),
      ownerId: row.owner_id,
      notificationId: row.id,
    });
    return sent.messageId;
  }

  /** What a delivered notification becomes: an email the outbox mailer only wrote down is not sent. */
  const deliveredStatus = (channel: Channel) =>
    channel === "email" && mailer.kind === "outbox" ? "outboxed" : "sent";

  async function sendWebhook(row: ClaimedRow, job: JobSummary): Promise<string> {
    const [hook] = await sql<{ url: string; secret: string }[]>`
      SELECT url, secret FROM webhooks WHERE id = ${row.target}`;
    if (!hook) throw new DeliveryError("The webhook was deleted", true);
    const body = webhookBody(row.id, row.event, job, settings.publicUrl, new Date());
    const headers = await webhookHeaders(hook.secret, row.id, row.event, body);
    const result = await postWebhook(
      { url: hook.url, body, headers },
      webhooks,
      settings.timeoutMs,
    );
    return `HTTP ${result.status} from ${result.url}`;
  }

  async function deliver(row: ClaimedRow): Promise<void> {
    const fields = {
      notification_id: row.id,
      job_id: row.job_id,
      channel: row.channel,
      attempt: row.attempts,
    };
    try {
      const parsed = JobSummarySchema.safeParse(row.payload);
      // A summary that does not parse never will: no retry.
      if (!parsed.success)
        throw new DeliveryError(`Invalid job summary: ${parsed.error.message}`, true);
      const job = parsed.data;
      const outcome =
        row.channel === "email" ? await sendEmail(row, job) : await sendWebhook(row, job);
      const marked = await sql`
        UPDATE notifications
        SET status = ${deliveredStatus(row.channel)}, sent_at = now(), lease_until = NULL,
            last_error = NULL
        WHERE id = ${row.id} AND status = 'sending' AND attempts = ${row.attempts}`;
      deliveries.inc({ channel: row.channel, outcome: "sent" });
      const logged = { ...fields, outcome: withoutUrlPaths(outcome) };
      if (marked.count === 0)
        logger.warn("notification sent after its lease was taken over", logged);
      else logger.info("notification sent", logged);
    } catch (err) {
      const permanent = err instanceof DeliveryError && err.permanent;
      const message = err instanceof Error ? err.message : String(err);
      const last = permanent || row.attempts >= settings.maxAttempts;
      const delay = backoffDelay(row.attempts, settings.backoffMs, settings.backoffMaxMs, random);
      await sql`
        UPDATE notifications
        SET status = ${last ? "failed" : "pending"}, last_error = ${message.slice(0, 2000)},
            lease_until = NULL,
            next_attempt_at = now() + ${last ? 0 : delay}::bigint * interval '1 millisecond'
        WHERE id = ${row.id} AND status = 'sending' AND attempts = ${row.attempts}`;
      deliveries.inc({ channel: row.channel, outcome: last ? "failed" : "retrying" });
      const log = last ? logger.error : logger.warn;
      log(last ? "notification failed" : "notification will be retried", {
        ...fields,
        error: withoutUrlPaths(message),
        ...(last ? { permanent } : { retry_in_ms: delay }),
      });
    }
  }

  function start(row: ClaimedRow): Promise<void> {
    const slots = inFlight[row.channel];
    const p: Promise<void> = deliver(row)
      .catch((err) =>
        // Only recording the outcome can fail here (the database is away): the lease expires
        // and the notification is retried.
        logger.error("notification outcome not recorded", {
          notification_id: row.id,
          error: err instanceof Error ? err.message : String(err),
        }),
      )
      .finally(() => {
        slots.delete(p);
        wake();
      });
    slots.add(p);
    return p;
  }

  /** Claims what is due (up to the free slots) and starts delivering it; returns how many. */
  async function fill(): Promise<Promise<void>[]> {
    await failAbandoned();
    const started: Promise<void>[] = [];
    for (const channel of CHANNELS) {
      const rows = await claim(channel, concurrency - inFlight[channel].size);
      for (const row of rows) started.push(start(row));
    }
    return started;
  }

  let running = false;
  let loop: Promise<void> | null = null;
  let wakeUp: (() => void) | null = null;

  function wake(): void {
    wakeUp?.();
  }

  async function run(): Promise<void> {
    while (running) {
      let claimed = 0;
      try {
        claimed = (await fill()).length;
      } catch (err) {
        logger.error("notification dispatcher", {
          error: err instanceof Error ? err.message : String(err),
        });
      }
      if (!running) break;
      if (claimed > 0) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, settings.pollMs);
        function done() {
          clearTimeout(timer);
          wakeUp = null;
          resolve();
        }
        wakeUp = done;
      });
    }
  }

  return {
    /** Claims what is due now, delivers it, and resolves when done; returns how many. */
    async runOnce(): Promise<number> {
      const started = await fill();
      await Promise.all(started);
      return started.length;
    },
    /** Starts the background loop (idempotent). */
    start(): void {
      if (running) return;
      running = true;
      loop = run();
    },
    /** Looks for due notifications now instead of at the next poll. */
    wake,
    /** Stops claiming and waits for the deliveries in flight. */
    async stop(): Promise<void> {
      running = false;
      wake();
      await loop;
      loop = null;
      await Promise.all([...inFlight.email, ...inFlight.webhook]);
    },
  };
}
