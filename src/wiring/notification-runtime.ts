import { createPinnedPost, resolveWithDns } from "../adapters/node/webhook-transport.ts";
import { createSmtpMailer } from "../adapters/smtp/smtp-mailer.ts";
import type { NotificationSettings, WebhookSettings } from "../config/config.ts";
import {
  createNotificationDispatcher,
  type DispatcherDeps,
} from "../features/notifications/delivery-dispatcher.ts";
import { createOutboxMailer } from "../features/notifications/email/outbox-mailer.ts";
import { createNotificationService } from "../features/notifications/notification-service.ts";
import {
  createWebhookService,
  type PostPinned,
} from "../features/notifications/webhooks/webhook-service.ts";
import {
  type ResolveHost,
  webhookPolicy,
} from "../features/notifications/webhooks/webhook-target.ts";
import type { Database } from "../platform/database.ts";
import type { Logger } from "../platform/logger.ts";
import type { Mailer } from "../platform/mailer.ts";
import type { Metrics } from "../platform/metrics.ts";

export type NotificationsRuntime = ReturnType<typeof createNotificationsRuntime>;

/**
 * Notifications wired for a Node-compatible runtime (Bun, Node): SMTP through nodemailer when
 * SMTP_URL is set, otherwise the outbox; webhooks over node:http(s) with the system resolver.
 * Call `dispatcher.start()` in each process that should deliver (the API server, a worker) and
 * `close()` on shutdown.
 *
 * @example
 * const notify = createNotificationsRuntime({ db, logger, publicUrl: config.publicUrl,
 *   settings: config.notifications, webhooks: config.webhooks, readResult });
 * notify.dispatcher.start();
 */
export function createNotificationsRuntime(deps: {
  db: Database;
  logger: Logger;
  publicUrl: string;
  settings: NotificationSettings;
  webhooks: WebhookSettings;
  readResult: DispatcherDeps["readResult"];
  /** Overrides for tests: another resolver, another mailer, a CA for the HTTPS client. */
  resolve?: ResolveHost;
  post?: PostPinned;
  mailer?: Mailer;
  metrics?: Metrics;
}) {
  const { db, logger, settings } = deps;
  const policy = webhookPolicy(deps.webhooks);
  const resolve = deps.resolve ?? resolveWithDns;
  const mailer =
    deps.mailer ??
    (settings.smtpUrl
      ? createSmtpMailer({
          url: settings.smtpUrl,
          from: settings.mailFrom,
          timeoutMs: settings.timeoutMs,
        })
      : createOutboxMailer({ sql: db.sql, logger, from: settings.mailFrom }));
  const dispatcher = createNotificationDispatcher({
    sql: db.sql,
    mailer,
    webhooks: { policy, resolve, post: deps.post ?? createPinnedPost() },
    readResult: deps.readResult,
    logger,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    settings: {
      publicUrl: deps.publicUrl,
      maxAttempts: settings.maxAttempts,
      backoffMs: settings.backoffMs,
      backoffMaxMs: settings.backoffMaxMs,
      timeoutMs: settings.timeoutMs,
      pollMs: settings.pollMs,
      attach: { maxFiles: settings.attachMaxFiles, maxBytes: settings.attachMaxBytes },
    },
  });
  return {
    mailer,
    dispatcher,
    notifications: createNotificationService({ sql: db.sql, onEnqueued: dispatcher.wake }),
    webhooks: createWebhookService({ sql: db.sql, policy, resolve }),
    async close(): Promise<void> {
      await dispatcher.stop();
      await mailer.close?.();
    },
  };
}
