import type { Sql } from "../../platform/database.ts";
import type { RateLimiter } from "../../platform/rate-limiter.ts";

// Expired windows are deleted every this many takes of one process: the table holds the keys
// active in the last window, not every key ever limited.
const SWEEP_EVERY = 1000;

/**
 * A fixed-window counter per key in the `rate_limit_windows` table, so that every API instance on
 * one database spends the same budget. One upsert per request, timed by the database's clock
 * (instances' clocks need not agree); `scope` keeps limiters with different budgets apart.
 *
 * @example
 * const limiter = createPostgresRateLimiter({ sql, scope: "requests", limit: 600, windowMs: 60_000 });
 * await limiter.take("user:42"); // { allowed: true, remaining: 599 }
 */
export function createPostgresRateLimiter(options: {
  sql: Sql;
  scope: string;
  limit: number;
  windowMs: number;
}): RateLimiter {
  const { sql, scope, limit, windowMs } = options;
  const window = `${windowMs} milliseconds`;
  let takes = 0;
  return {
    async take(key) {
      if (++takes % SWEEP_EVERY === 0) {
        await sql`DELETE FROM rate_limit_windows WHERE reset_at <= now()`;
      }
      // A refused request still counts, capped one past the limit: the row says "spent".
      const [row] = await sql<{ count: number; retry_ms: number }[]>`
        INSERT INTO rate_limit_windows AS w (key, count, reset_at)
        VALUES (${`${scope}:${key}`}, 1, now() + ${window}::interval)
        ON CONFLICT (key) DO UPDATE SET
          count = CASE WHEN w.reset_at <= now() THEN 1 ELSE LEAST(w.count + 1, ${limit + 1}) END,
          reset_at = CASE WHEN w.reset_at <= now() THEN excluded.reset_at ELSE w.reset_at END
        RETURNING count, (extract(epoch FROM reset_at - now()) * 1000)::float8 AS retry_ms`;
      if (!row) throw new Error("the rate-limit upsert returned no row");
      if (row.count > limit) {
        return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(row.retry_ms / 1000)) };
      }
      return { allowed: true, remaining: limit - row.count };
    },
  };
}
