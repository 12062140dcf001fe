/** The outcome of one request against a budget. */
export type RateLimitResult =
  | { allowed: true; remaining: number }
  | { allowed: false; retryAfterSeconds: number };

/**
 * A request budget per key (a user, an API key, an address). Async so that a shared store
 * (Redis, Postgres) can implement it; the in-memory one suits a single instance.
 */
export interface RateLimiter {
  take(key: string): Promise<RateLimitResult>;
}

/** Lets everything through: a limit of 0 in the configuration. */
export const noopRateLimiter: RateLimiter = {
  take: async () => ({ allowed: true, remaining: Number.POSITIVE_INFINITY }),
};

/**
 * A fixed-window counter per key, in this process's memory: at most `limit` requests per window
 * of `windowMs`, each key's window starting at its first request. Expired windows are swept as
 * the map grows, so memory follows the active keys, not every key ever seen.
 *
 * @example
 * const limiter = createMemoryRateLimiter({ limit: 600, windowMs: 60_000 });
 * await limiter.take("user:42"); // { allowed: true, remaining: 599 }
 */
export function createMemoryRateLimiter(options: {
  limit: number;
  windowMs: number;
  now?: () => number;
}): RateLimiter {
  const { limit, windowMs, now = Date.now } = options;
  const windows = new Map<string, { count: number; resetAt: number }>();
  let sweepAt = 1024;

  function sweep(at: number) {
    for (const [key, w] of windows) if (w.resetAt <= at) windows.delete(key);
    sweepAt = Math.max(1024, windows.size * 2);
  }

  return {
    async take(key) {
      const at = now();
      if (windows.size >= sweepAt) sweep(at);
      let w = windows.get(key);
      if (!w || w.resetAt <= at) {
        w = { count: 0, resetAt: at + windowMs };
        windows.set(key, w);
      }
      if (w.count >= limit) {
        return {
          allowed: false,
          retryAfterSeconds: Math.max(1, Math.ceil((w.resetAt - at) / 1000)),
        };
      }
      w.count += 1;
      return { allowed: true, remaining: limit - w.count };
    },
  };
}
