import { createPostgresBlobStore } from "../adapters/postgres/postgres-blob-store.ts";
import {
  type AuthSettings,
  type DeliverySettings,
  type Limits,
  loadConfig,
  type RateLimitSettings,
} from "../config/config.ts";
import { createByteLru, type MemoryCache } from "../core/lib/byte-lru.ts";
import { createApiKeyService } from "../features/accounts/api-keys/api-key-service.ts";
import { createAuthService } from "../features/accounts/authentication-service.ts";
import { userEmail } from "../features/accounts/index.ts";
import { createTokenService } from "../features/accounts/token-service.ts";
import { createUserService } from "../features/accounts/user-service.ts";
import {
  type AnalysisService,
  createAnalysisService,
} from "../features/analysis/analysis-service.ts";
import { createImageService, type ImageService } from "../features/images/image-service.ts";
import { createQuota } from "../features/images/quota.ts";
import type { JobResults } from "../features/jobs/job-results.ts";
import { createJobService } from "../features/jobs/job-service.ts";
import type { CreateJobInput, JobFinishHooks, JobStore } from "../features/jobs/job-store.ts";
import type { JobRecord } from "../features/jobs/types.ts";
import type { NotificationService } from "../features/notifications/notification-service.ts";
import type { WebhookService } from "../features/notifications/webhooks/webhook-service.ts";
import { createRenderCache } from "../features/renders/render-cache.ts";
import {
  createTransformService,
  type TransformService,
} from "../features/renders/render-service.ts";
import {
  createSegmentationService,
  type SegmentationService,
} from "../features/segmentations/segmentation-service.ts";
import { createSignedUrlService, type SignedUrlService } from "../features/signed-urls/index.ts";
import type { Services } from "../http/env.ts";
import type { BlobStore } from "../platform/blob-store.ts";
import { type Clock, systemClock } from "../platform/clock.ts";
import type { Database, Sql, Transaction } from "../platform/database.ts";
import type { DeferredWork } from "../platform/deferred-work.ts";
import type { ImageProcessor } from "../platform/image-processor.ts";
import type { Logger } from "../platform/logger.ts";
import { type Metrics, noopMetrics } from "../platform/metrics.ts";
import type { PasswordHasher } from "../platform/password-hasher.ts";
import {
  createMemoryRateLimiter,
  noopRateLimiter,
  type RateLimiter,
} from "../platform/rate-limiter.ts";
import type { Spool } from "../platform/spool.ts";

// This module imports Web APIs only (no queue client, mailer or node:* module): the edge entry
// builds its services here, and the Bun runtime adds its job runtime on top (services.ts).

export type ServiceDeps = {
  db: Database;
  spool: Spool;
  processor: ImageProcessor;
  hasher: PasswordHasher;
  limits: Limits;
  auth: AuthSettings;
  rateLimits: RateLimitSettings;
  logger: Logger;
  /** Where image bytes live; default: Postgres, beside the records. */
  blobs?: BlobStore;
  /** Originals are downloaded from presigned URLs (S3_DOWNLOADS=redirect) valid this long. */
  directDownloads?: { ttlSeconds: number } | undefined;
  /** How long a job's event stream stays silent before a heartbeat. */
  heartbeatMs?: number;
  /**
   * Limiters made once by a host that assembles services per request (the edge): otherwise new
   * ones from `rateLimits`.
   */
  limiters?: Services["rateLimits"];
  /** What rate-limit windows and token times are read from; the system clock unless given. */
  clock?: Clock;
  /** Signed URLs, CORS, the memory cache; the defaults unless given. */
  delivery?: DeliverySettings;
  /** Base of signed URLs (PUBLIC_URL); the default unless given. */
  publicUrl?: string;
  /** Made by a host that shares them with its job runtime or keeps them across requests. */
  signedUrls?: SignedUrlService;
  memory?: MemoryCache;
  /** Where uploads, render-cache lookups and deliveries are counted; nowhere unless given. */
  metrics?: Metrics;
  /** Work finished after the response (render-cache writes); before it when absent. */
  deferred?: DeferredWork;
};

/** The image use cases that jobs execute and summarise. */
export type ImageUseCases = {
  images: ImageService;
  transforms: TransformService;
  analysis: AnalysisService;
  segmentations: SegmentationService;
};

/** What the jobs, notification and webhook routes need from however this runtime runs jobs. */
export type JobWiring = {
  store: JobStore;
  /** Accepts a job (committed with its items, or its outbox messages) and wakes its runner. */
  submit(input: CreateJobInput): Promise<JobRecord>;
  results: JobResults;
  notifications: NotificationService;
  webhooks: WebhookService;
};

/** Makes one budget's limiter where its counters live; `scope` names the budget. */
export type RateLimiterFactory = (budget: {
  scope: string;
  limit: number;
  windowMs: number;
}) => RateLimiter;

const IMAGE_DELETED_CHANNEL = "pictor_image_deleted";

/**
 * The delivery services of `deps`, made from its settings (or the defaults) where not given:
 * the signed-URL service and the memory cache (absent when MEMORY_CACHE_BYTES is 0).
 */
export function deliveryOf(
  deps: Pick<
    ServiceDeps,
    "db" | "logger" | "clock" | "delivery" | "publicUrl" | "signedUrls" | "memory"
  >,
) {
  let defaults: ReturnType<typeof loadConfig> | undefined;
  const fallback = () => (defaults ??= loadConfig({}));
  const settings = deps.delivery ?? fallback().delivery;
  const signedUrls =
    deps.signedUrls ??
    createSignedUrlService({
      sql: deps.db.sql,
      keys: settings.urlSigningKeys,
      publicUrl: deps.publicUrl ?? fallback().publicUrl,
      maxTtlSeconds: settings.signedUrlMaxTtlSeconds,
      logger: deps.logger,
      ...(deps.clock ? { clock: deps.clock } : {}),
    });
  const memory =
    deps.memory ??
    (settings.memoryCacheBytes > 0 ? createByteLru(settings.memoryCacheBytes) : undefined);
  return { settings, signedUrls, memory };
}

/**
 * Drops from `memory` the entries of every image deleted, by any instance on this database:
 * the images table announces its deletes (migration 0010), delivered on commit within
 * milliseconds. A failure to listen is logged, not fatal: this instance still forgets its own
 * deletes at once.
 */
export function listenForDeletes(
  db: Database,
  memory: MemoryCache | undefined,
  logger: Logger,
): void {
  if (!memory) return;
  db.listen(IMAGE_DELETED_CHANNEL, (id) => memory.dropGroup(id)).catch((err: unknown) => {
    logger.error(
      "cannot listen for deleted images: other instances' deletes reach this memory cache only as it evicts",
      {
        error: err instanceof Error ? err.message : String(err),
      },
    );
  });
}

/**
 * The image use cases on one database: images, renders (with their cache), analyses and
 * segmentations, over the blobs in Postgres unless another store is given. Shared by the API
 * process, the edge, a job worker and the tests.
 *
 * @example
 * const { images, transforms } = createImageUseCases({ sql: db.sql, spool, processor, limits });
 */
export function createImageUseCases(deps: {
  sql: Sql;
  spool: Spool;
  processor: ImageProcessor;
  limits: Limits;
  blobs?: BlobStore | undefined;
  /** Where renderings and analyses are kept hot for HTTP hits; none for a job worker. */
  memory?: MemoryCache | undefined;
  directDownloads?: { ttlSeconds: number } | undefined;
  metrics?: Metrics | undefined;
  deferred?: DeferredWork | undefined;
}): ImageUseCases {
  const { sql, processor, limits, memory, metrics = noopMetrics, deferred } = deps;
  const blobs = deps.blobs ?? createPostgresBlobStore(sql);
  // The quota is the images feature's (usage is per owner); it keeps no state of its own.
  const cache = createRenderCache({ sql, blobs, quota: createQuota(limits) });
  const images = createImageService({
    sql,
    blobs,
    spool: deps.spool,
    limits,
    processor,
    heldWith: cache.blobsOf,
    // This instance forgets at once; the others hear of it by NOTIFY (see listenForDeletes).
    onRemoved: (id) => memory?.dropGroup(id),
    directDownloads: deps.directDownloads,
    metrics,
  });
  const segmentations = createSegmentationService({ sql, images, processor, limits });
  return {
    images,
    segmentations,
    transforms: createTransformService({
      cache,
      images,
      processor,
      limits,
      memory,
      metrics,
      deferred,
    }),
    analysis: createAnalysisService({ sql, images, segmentations, processor, limits, memory }),
  };
}

/**
 * The rate limiters of the settings, in this process's memory unless `make` keeps their counters
 * elsewhere (Postgres, Redis: shared by every instance); a limit of 0 lets everything through.
 * Kept by whatever lives as long as the process (or the edge isolate), since a limiter made per
 * request would count nothing.
 *
 * @example
 * const rateLimits = createRateLimiters(config.rateLimits);
 */
export function createRateLimiters(
  settings: RateLimitSettings,
  clock: Clock = systemClock,
  make: RateLimiterFactory = ({ limit, windowMs }) =>
    createMemoryRateLimiter({ limit, windowMs, now: () => clock.now() }),
): Services["rateLimits"] {
  const limiter = (scope: string, limit: number, windowSeconds: number) =>
    limit === 0 ? noopRateLimiter : make({ scope, limit, windowMs: windowSeconds * 1000 });
  return {
    requests: limiter("requests", settings.requests, settings.windowSeconds),
    signups: limiter("signups", settings.signups, settings.signupWindowSeconds),
  };
}

/**
 * The finish hook that creates a job's email and webhook notifications inside the transaction
 * that ends the job; `afterCommit` says who to wake (a dispatcher, or nobody where none runs).
 *
 * @example
 * const store = createJobStore({ sql, leaseMs, onFinish: notifyOnFinish(results, notifications, () => {}) });
 */
export function notifyOnFinish(
  results: JobResults,
  notifications: NotificationService,
  afterCommit: () => void,
): JobFinishHooks {
  return {
    async inTransaction(tx: Transaction, job: JobRecord) {
      const summary = await results.summarize(tx, job);
      if (!summary) return;
      const recipient = await userEmail(tx, summary.owner_id);
      await notifications.enqueueForJob({ job: summary, recipient, notify: job.notify }, tx);
    },
    afterCommit,
  };
}

/**
 * Wires the use cases to a database, a spool and a processor; `wireJobs` says how this runtime
 * accepts and runs jobs (the Bun runtime: in-process or RabbitMQ; the edge: submission only),
 * and whatever it returns as `background` is handed back for the host to start and stop.
 *
 * @example
 * const services = assembleServices(deps, (useCases) => ({ jobs: edgeJobs(useCases), background: null }));
 */
export function assembleServices<Background>(
  deps: ServiceDeps,
  wireJobs: (useCases: ImageUseCases) => { jobs: JobWiring; background: Background },
): Services & { background: Background } {
  const { db, spool, processor, hasher, limits, auth, logger, clock = systemClock } = deps;
  const tokens = createTokenService({
    sql: db.sql,
    keys: auth.jwtKeys,
    ttlSeconds: auth.tokenTtlSeconds,
    logger,
    clock,
  });
  const delivery = deliveryOf(deps);
  const useCases = createImageUseCases({
    sql: db.sql,
    spool,
    processor,
    limits,
    blobs: deps.blobs,
    memory: delivery.memory,
    directDownloads: deps.directDownloads,
    metrics: deps.metrics,
    deferred: deps.deferred,
  });
  const { jobs, background } = wireJobs(useCases);
  return {
    ...useCases,
    jobs: createJobService({
      sql: db.sql,
      store: jobs.store,
      submit: jobs.submit,
      results: jobs.results,
      notifications: jobs.notifications,
      listen: db.listen,
      ...(deps.heartbeatMs ? { heartbeatMs: deps.heartbeatMs } : {}),
    }),
    notifications: jobs.notifications,
    webhooks: jobs.webhooks,
    background,
    users: createUserService({ sql: db.sql, hasher, tokens, limits }),
    apiKeys: createApiKeyService({ sql: db.sql }),
    auth: createAuthService({ sql: db.sql, tokens }),
    signedUrls: delivery.signedUrls,
    corsOrigins: delivery.settings.corsOrigins,
    rateLimits: deps.limiters ?? createRateLimiters(deps.rateLimits, clock),
    trustProxy: auth.trustProxy,
    limits,
    logger,
    async checkReady() {
      await db.sql`SELECT 1`;
    },
  };
}
