import type { PasswordHasher } from "../auth/password.ts";
import { createMemoryRateLimiter, noopRateLimiter, type RateLimiter } from "../auth/rate-limit.ts";
import {
  type AuthSettings,
  type Config,
  type JobSettings,
  loadConfig,
  type RateLimitSettings,
} from "../config.ts";
import type { Database } from "../db/database.ts";
import type { Services } from "../http/env.ts";
import type { Logger } from "../logger.ts";
import { createAnalysisService } from "../services/analysis.ts";
import { createApiKeyService } from "../services/api-keys.ts";
import { createAuthService } from "../services/auth.ts";
import { createImageService } from "../services/images.ts";
import { createJobService } from "../services/jobs.ts";
import type { ImageProcessor } from "../services/processor.ts";
import { createSegmentationService } from "../services/segmentations.ts";
import { createTokenService } from "../services/tokens.ts";
import { createTransformService } from "../services/transforms.ts";
import { createUserService } from "../services/users.ts";
import type { Spool } from "../storage/spool.ts";
import { createJobRuntime, type JobRuntime, type NotifyOptions } from "./jobs.ts";

const limiter = (requests: number, windowSeconds: number): RateLimiter =>
  requests === 0
    ? noopRateLimiter
    : createMemoryRateLimiter({ limit: requests, windowMs: windowSeconds * 1000 });

/** The services, and the loops behind them that the hosting process starts and stops. */
export type ServicesWithBackground = Services & { background: JobRuntime };

/**
 * Wires the use cases to a database and a spool; shared by every runtime adapter and the tests.
 * Jobs and notifications take the environment's defaults (in-process, outbox) unless given.
 * Nothing runs in the background until `background.start()`.
 */
export function createServices(deps: {
  db: Database;
  spool: Spool;
  processor: ImageProcessor;
  hasher: PasswordHasher;
  limits: Config["limits"];
  auth: AuthSettings;
  rateLimits: RateLimitSettings;
  logger: Logger;
  jobs?: JobSettings;
  notify?: NotifyOptions;
  /** How long a job's event stream stays silent before a heartbeat. */
  heartbeatMs?: number;
}): ServicesWithBackground {
  const { db, spool, processor, hasher, limits, auth, rateLimits, logger } = deps;
  let defaults: Config | undefined;
  const fallback = () => {
    defaults ??= loadConfig({});
    return defaults;
  };
  const tokens = createTokenService({
    sql: db.sql,
    keys: auth.jwtKeys,
    ttlSeconds: auth.tokenTtlSeconds,
    logger,
  });
  const images = createImageService({ sql: db.sql, spool, limits });
  const segmentations = createSegmentationService({ sql: db.sql, images, processor, limits });
  const transforms = createTransformService({ sql: db.sql, images, processor, limits });
  const analysis = createAnalysisService({ sql: db.sql, images, segmentations, processor, limits });
  const background = createJobRuntime({
    db,
    logger,
    role: "api",
    settings: deps.jobs ?? fallback().jobs,
    services: { images, transforms, analysis, segmentations },
    notify: deps.notify ?? {
      publicUrl: fallback().publicUrl,
      settings: fallback().notifications,
      webhooks: fallback().webhooks,
    },
  });
  return {
    images,
    transforms,
    analysis,
    segmentations,
    jobs: createJobService({
      sql: db.sql,
      store: background.jobs.store,
      submit: (input) => background.jobs.submit(input),
      results: background.results,
      notifications: background.notify.notifications,
      listen: db.listen,
      ...(deps.heartbeatMs ? { heartbeatMs: deps.heartbeatMs } : {}),
    }),
    notifications: background.notify.notifications,
    webhooks: background.notify.webhooks,
    background,
    users: createUserService({ sql: db.sql, hasher, tokens, limits }),
    apiKeys: createApiKeyService({ sql: db.sql }),
    auth: createAuthService({ sql: db.sql, tokens }),
    rateLimits: {
      requests: limiter(rateLimits.requests, rateLimits.windowSeconds),
      signups: limiter(rateLimits.signups, rateLimits.signupWindowSeconds),
    },
    trustProxy: auth.trustProxy,
    limits,
    logger,
    async checkReady() {
      await db.sql`SELECT 1`;
    },
  };
}
