import postgres from "postgres";

export type Sql = postgres.Sql;
export type Transaction = postgres.TransactionSql;

export type Database = {
  sql: Sql;
  /** "postgres" for a server reached through DATABASE_URL, "embedded" for PGlite. */
  kind: "postgres" | "embedded";
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
  return { sql, kind: "postgres", close: () => sql.end({ timeout: 5 }) };
}
