import type { Sql } from "../../platform/database.ts";
import type { Metrics } from "../../platform/metrics.ts";

// Always reported, even at 0, so that a dashboard's series exist before the first job.
const STATES = ["queued", "running", "succeeded", "failed", "canceled"] as const;

/**
 * Reports the job items of the whole database by state at each scrape (one grouped count over
 * `job_items`): every process that reports it shows the same numbers.
 *
 * @example
 * measureJobItems(metrics, db.sql);
 */
export function measureJobItems(metrics: Metrics, sql: Sql): void {
  metrics.gauge({
    name: "pictor_job_items",
    help: "Job items in the database by state",
    labelNames: ["state"],
    async read() {
      const rows = await sql<{ status: string; items: number }[]>`
        SELECT status, count(*)::int AS items FROM job_items GROUP BY status`;
      const counts = new Map<string, number>(STATES.map((state) => [state, 0]));
      for (const row of rows) counts.set(row.status, row.items);
      return [...counts].map(([state, value]) => ({ labels: { state }, value }));
    },
  });
}
