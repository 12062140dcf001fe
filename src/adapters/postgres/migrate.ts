import type { Logger } from "../../platform/logger.ts";
import type { Sql } from "./database.ts";
import { MIGRATIONS, type Migration } from "./migrations/index.ts";

// Any fixed 64-bit number works; instances of Pictor agree on this one.
const MIGRATION_LOCK = 0x70696374_6f72n; // "pictor"

/**
 * Applies the migrations not yet recorded in `schema_migrations`, all in one transaction that
 * holds an advisory lock, so instances starting together apply each migration exactly once and
 * none starts on a half-migrated schema.
 *
 * @returns the names of the migrations this call applied
 */
export async function migrate(
  sql: Sql,
  logger?: Logger,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<string[]> {
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK.toString()}::bigint)`;
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (
      name text PRIMARY KEY,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`;
    const rows = await tx<{ name: string }[]>`SELECT name FROM schema_migrations`;
    const done = new Set(rows.map((r) => r.name));
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.name)) continue;
      await tx.unsafe(m.sql);
      await tx`INSERT INTO schema_migrations (name) VALUES (${m.name})`;
      logger?.info("migration applied", { migration: m.name });
      applied.push(m.name);
    }
    return applied;
  });
}
