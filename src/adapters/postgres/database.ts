import postgres from "postgres";
import type { Database } from "../../platform/database.ts";

// The types are the platform's (features write SQL against them); re-exported for the runtime
// code that connects.
export type {
  Database,
  Listen,
  Sql,
  Subscription,
  Transaction,
} from "../../platform/database.ts";

export type PostgresOptions = {
  /** Pool size. */
  max?: number;
  /** A schema to put first on the search_path (tests isolate themselves this way). */
  schema?: string;
};

/**
 * Connects to a Postgres server. The pool connects lazily: a wrong URL surfaces on the first query
 * (the migration at start), not here.
 *
 * @example
 * const db = connectPostgres("postgres://postgres@127.0.0.1:5432/test");
 */
export function connectPostgres(url: string, options: PostgresOptions = {}): Database {
  const sql = postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    connection: options.schema ? { search_path: options.schema } : {},
  });
  return {
    sql,
    kind: "postgres",
    // postgres.js keeps one extra connection for every channel of the pool, and LISTENs again
    // on it after a reconnection.
    listen: async (channel, onPayload) => {
      const { unlisten } = await sql.listen(channel, onPayload);
      return { unlisten };
    },
    close: () => sql.end({ timeout: 5 }),
  };
}
