import type { JobSettings, WebhookSettings } from "../../config/config.ts";
import { createJobResults } from "../../features/jobs/job-results.ts";
import { createJobStore } from "../../features/jobs/job-store.ts";
import { createNotificationService } from "../../features/notifications/notification-service.ts";
import { createWebhookService } from "../../features/notifications/webhooks/webhook-service.ts";
import {
  type ResolveHost,
  webhookPolicy,
} from "../../features/notifications/webhooks/webhook-target.ts";
import type { Sql } from "../../platform/database.ts";
import {
  type ImageUseCases,
  type JobWiring,
  notifyOnFinish,
} from "../../wiring/assemble-services.ts";

/**
 * Jobs as an edge isolate can take them: submission only. A job is rows in Postgres, committed
 * with its items (and, with AMQP_URL, its outbox messages); nothing runs here. Without AMQP_URL
 * the in-process transport of the Bun server or of `npm run worker` claims the items (woken by
 * the NOTIFY that `create` sends); with it, the Bun server's outbox relay publishes them to the
 * workers. Notifications are only written here: the dispatchers of those processes deliver them
 * on their next poll.
 *
 * @example
 * const jobs = submitOnlyJobs({ sql, settings: config.jobs, webhooks: config.webhooks, resolve, useCases });
 */
export function submitOnlyJobs(deps: {
  sql: Sql;
  settings: JobSettings;
  webhooks: WebhookSettings;
  /** Checks a webhook's host when it is registered (delivery checks it again). */
  resolve: ResolveHost;
  useCases: ImageUseCases;
}): JobWiring {
  const { sql, settings, useCases } = deps;
  const results = createJobResults({ sql, ...useCases });
  const notifications = createNotificationService({ sql });
  // A cancel can finish a job here: its notifications are created in that transaction, and no
  // dispatcher runs in this isolate to wake.
  const store = createJobStore({
    sql,
    leaseMs: settings.leaseMs,
    onFinish: notifyOnFinish(results, notifications, () => {}),
  });
  const outbox = Boolean(settings.amqpUrl);
  return {
    store,
    submit: (input) => store.create(input, { outbox }),
    results,
    notifications,
    webhooks: createWebhookService({
      sql,
      policy: webhookPolicy(deps.webhooks),
      resolve: deps.resolve,
    }),
  };
}
