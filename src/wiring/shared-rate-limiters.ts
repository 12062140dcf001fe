import { Redis } from "ioredis";
import { createPostgresRateLimiter } from "../adapters/postgres/postgres-rate-limiter.ts";
import { createRedisRateLimiter } from "../adapters/redis/redis-rate-limiter.ts";
import type { Config } from "../config/config.ts";
import type { Services } from "../http/env.ts";
import type { Database } from "../platform/database.ts";
import { createRateLimiters } from "./assemble-services.ts";

/** The limiters of an API process, and how to let go of what they hold. */
export type SharedRateLimiters = {
  limiters: Services["rateLimits"];
  /** Where the counters live: `redis`, `postgres` or `memory`. */
  store: "redis" | "postgres" | "memory";
  close(): Promise<void>;
};

/**
 * The rate limiters of an API process: their counters in Redis with REDIS_URL, else in Postgres
 * with DATABASE_URL, so that N instances enforce one limit; in memory on the embedded database
 * (one process owns it anyway). A Redis that does not answer fails the start, as an unreachable
 * DATABASE_URL does.
 *
 * @example
 * const { limiters, close } = await createSharedRateLimiters(config, db);
 */
export async function createSharedRateLimiters(
  config: Pick<Config, "rateLimits" | "redisUrl">,
  db: Database,
): Promise<SharedRateLimiters> {
  if (config.redisUrl) {
    // A request waits for one reconnection attempt at most, never in an offline queue.
    const redis = new Redis(config.redisUrl, {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
    });
    await redis.connect();
    return {
      store: "redis",
      limiters: createRateLimiters(config.rateLimits, undefined, (budget) =>
        createRedisRateLimiter({ redis, ...budget }),
      ),
      close: async () => {
        await redis.quit();
      },
    };
  }
  if (db.kind === "postgres") {
    return {
      store: "postgres",
      limiters: createRateLimiters(config.rateLimits, undefined, (budget) =>
        createPostgresRateLimiter({ sql: db.sql, ...budget }),
      ),
      close: async () => {},
    };
  }
  return {
    store: "memory",
    limiters: createRateLimiters(config.rateLimits),
    close: async () => {},
  };
}
