import type { PasswordHasher } from "../auth/password.ts";
import { createMemoryRateLimiter, noopRateLimiter, type RateLimiter } from "../auth/rate-limit.ts";
import type { AuthSettings, Config, RateLimitSettings } from "../config.ts";
import type { Database } from "../db/database.ts";
import type { Services } from "../http/env.ts";
import type { Logger } from "../logger.ts";
import { createAnalysisService } from "../services/analysis.ts";
import { createApiKeyService } from "../services/api-keys.ts";
import { createAuthService } from "../services/auth.ts";
import { createImageService } from "../services/images.ts";
import type { ImageProcessor } from "../services/processor.ts";
import { createSegmentationService } from "../services/segmentations.ts";
import { createTokenService } from "../services/tokens.ts";
import { createTransformService } from "../services/transforms.ts";
import { createUserService } from "../services/users.ts";
import type { Spool } from "../storage/spool.ts";

const limiter = (requests: number, windowSeconds: number): RateLimiter =>
  requests === 0
    ? noopRateLimiter
    : createMemoryRateLimiter({ limit: requests, windowMs: windowSeconds * 1000 });

/** Wires the use cases to a database and a spool; shared by every runtime adapter and the tests. */
export function createServices(deps: {
  db: Database;
  spool: Spool;
  processor: ImageProcessor;
  hasher: PasswordHasher;
  limits: Config["limits"];
  auth: AuthSettings;
  rateLimits: RateLimitSettings;
  logger: Logger;
}): Services {
  const { db, spool, processor, hasher, limits, auth, rateLimits, logger } = deps;
  const tokens = createTokenService({
    sql: db.sql,
    keys: auth.jwtKeys,
    ttlSeconds: auth.tokenTtlSeconds,
    logger,
  });
  const images = createImageService({ sql: db.sql, spool, limits });
  const segmentations = createSegmentationService({ sql: db.sql, images, processor, limits });
  return {
    images,
    transforms: createTransformService({ sql: db.sql, images, processor, limits }),
    analysis: createAnalysisService({ sql: db.sql, images, segmentations, processor, limits }),
    segmentations,
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
