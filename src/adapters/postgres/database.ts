import postgres from "postgres";

export type Sql = postgres.Sql;
export type Transaction = postgres.TransactionSql;

/** Stops one `listen` subscription. */
export type Subscription = { unlisten(): Promise<void> };

/**
 * Delivers NOTIFY payloads of `channel` to `onPayload`, from the moment the returned promise
 * resolves (subscribe before reading what the notifications announce, and nothing is missed).
 */
export type Listen = (
  channel: string,
  onPayload: (payload: string) => void,
) => Promise<Subscription>;

export type Database = {
  sql: Sql;
  /** "postgres" for a server reached through DATABASE_URL, "embedded" for PGlite. */
  kind: "postgres" | "embedded";
  /** Postgres LISTEN/NOTIFY, however this database can deliver it. */
  listen: Listen;
  close(): Promise<void>;
};

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
