import type { JobSettings, NotificationSettings, WebhookSettings } from "../config/config.ts";
import type { AnalysisService } from "../features/analysis/analysis-service.ts";
import type { ImageService } from "../features/images/image-service.ts";
import { createJobExecutor } from "../features/jobs/job-executor.ts";
import { measureJobItems } from "../features/jobs/job-metrics.ts";
import { createJobResults, type JobResults } from "../features/jobs/job-results.ts";
import type { PostPinned } from "../features/notifications/webhooks/webhook-service.ts";
import type { ResolveHost } from "../features/notifications/webhooks/webhook-target.ts";
import type { TransformService } from "../features/renders/render-service.ts";
import type { SegmentationService } from "../features/segmentations/segmentation-service.ts";
import type { Database } from "../platform/database.ts";
import type { Logger } from "../platform/logger.ts";
import type { Mailer } from "../platform/mailer.ts";
import type { Metrics } from "../platform/metrics.ts";
import { notifyOnFinish } from "./assemble-services.ts";
import { createJobSystem, type JobSystem } from "./job-system.ts";
import { createNotificationsRuntime, type NotificationsRuntime } from "./notification-runtime.ts";

/** Notifications as a process delivers them; the overrides are for tests. */
export type NotifyOptions = {
  publicUrl: string;
  settings: NotificationSettings;
  webhooks: WebhookSettings;
  resolve?: ResolveHost;
  post?: PostPinned;
  mailer?: Mailer;
};

export type JobRuntime = {
  jobs: JobSystem;
  notify: NotificationsRuntime;
  results: JobResults;
  /** Starts running (or relaying) items and delivering notifications in this process. */
  start(): Promise<void>;
  /** Finishes the items in hand, then the deliveries in flight. */
  stop(): Promise<void>;
};

/**
 * Jobs and their notifications for one process, the API server (`role: "api"`) or a worker:
 * the transaction that finishes a job creates its email and webhook notifications, and the
 * dispatcher is woken once it committed. Both roles run a dispatcher, so notifications go out
 * from wherever Pictor runs, and a job finished by a worker is announced without waiting for
 * the API's next poll.
 *
 * @example
 * const runtime = createJobRuntime({ db, logger, role: "worker", settings: config.jobs,
 *   services: { images, transforms, analysis, segmentations },
 *   notify: { publicUrl: config.publicUrl, settings: config.notifications, webhooks: config.webhooks } });
 * await runtime.start();
 */
export function createJobRuntime(deps: {
  db: Database;
  logger: Logger;
  role: "api" | "worker";
  settings: JobSettings;
  services: {
    images: ImageService;
    transforms: TransformService;
    analysis: AnalysisService;
    segmentations: SegmentationService;
  };
  notify: NotifyOptions;
  /** Where deliveries are counted, and job items reported by state; nowhere unless given. */
  metrics?: Metrics;
}): JobRuntime {
  const { db, logger, services } = deps;
  const results = createJobResults({ sql: db.sql, ...services });
  const notify = createNotificationsRuntime({
    db,
    logger,
    publicUrl: deps.notify.publicUrl,
    settings: deps.notify.settings,
    webhooks: deps.notify.webhooks,
    readResult: (job, file) => results.readBytes(job.id, file.id),
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    ...(deps.notify.resolve ? { resolve: deps.notify.resolve } : {}),
    ...(deps.notify.post ? { post: deps.notify.post } : {}),
    ...(deps.notify.mailer ? { mailer: deps.notify.mailer } : {}),
  });
  const jobs = createJobSystem({
    settings: deps.settings,
    db,
    executor: createJobExecutor(services),
    logger,
    role: deps.role,
    onFinish: notifyOnFinish(results, notify.notifications, () => notify.dispatcher.wake()),
  });
  if (deps.metrics) measureJobItems(deps.metrics, db.sql);
  return {
    jobs,
    notify,
    results,
    async start() {
      notify.dispatcher.start();
      await jobs.start();
    },
    async stop() {
      await jobs.stop();
      await notify.close();
    },
  };
}
