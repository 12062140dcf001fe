import type postgres from "postgres";

// The port features write their SQL against: postgres.js's query API, whichever database is behind
// it (a server through DATABASE_URL, embedded PGlite, a per-request client on the edge). The
// connections themselves are made by adapters/postgres.

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
