import type { Redis } from "ioredis";
import { ApiError } from "../../platform/api-error.ts";
import type { RateLimiter } from "../../platform/rate-limiter.ts";

// INCR and the expiry of a new window in one script, so that a process dying between the two
// cannot leave a key without expiry (a budget spent forever).
const TAKE = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('PTTL', KEYS[1])}`;

/**
 * A fixed-window counter per key in Redis, shared by every API instance that uses the same
 * server: one round trip per request, and the window is the key's own expiry. `scope` keeps
 * limiters with different budgets apart.
 *
 * @example
 * const limiter = createRedisRateLimiter({ redis, scope: "requests", limit: 600, windowMs: 60_000 });
 * await limiter.take("user:42"); // { allowed: true, remaining: 599 }
 */
export function createRedisRateLimiter(options: {
  redis: Redis;
  scope: string;
  limit: number;
  windowMs: number;
}): RateLimiter {
  const { redis, scope, limit, windowMs } = options;
  return {
    async take(key) {
      const [count, ttlMs] = (await redis
        .eval(TAKE, 1, `pictor:rate:${scope}:${key}`, windowMs)
        .catch(() => {
          // Not the client's fault, and likely brief: a 503 to retry, not a 500.
          throw new ApiError("unavailable", "The rate limits' store does not answer; try again", {
            headers: { "Retry-After": "1" },
          });
        })) as [number, number];
      if (count > limit) {
        return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(ttlMs / 1000)) };
      }
      return { allowed: true, remaining: limit - count };
    },
  };
}
