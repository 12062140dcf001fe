import { afterAll, beforeAll, describe } from "bun:test";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { createApp } from "../../src/app.ts";
import type { Limits } from "../../src/config.ts";
import { connectPostgres, type Database } from "../../src/db/database.ts";
import { migrate } from "../../src/db/migrate.ts";
import type { App } from "../../src/http/env.ts";
import { createJsonLogger } from "../../src/logger.ts";
import { createFileSpool } from "../../src/runtime/bun/file-spool.ts";
import { createWorkerPool } from "../../src/runtime/bun/worker-pool.ts";
import { openEmbeddedDatabase } from "../../src/runtime/embedded-postgres.ts";
import { createServices } from "../../src/runtime/services.ts";
import type { ImageProcessor } from "../../src/services/processor.ts";
import { memorySpool } from "../../src/storage/spool.ts";

/** The real server CI uses; DATABASE_URL overrides it. */
export const POSTGRES_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const required = process.env.REQUIRE_SERVICES === "1";

async function reachable(url: string): Promise<string | null> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
    return null;
  } catch (err) {
    return String(err);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

const unreachable = await reachable(POSTGRES_URL);
if (unreachable) {
  if (required)
    throw new Error(
      `REQUIRE_SERVICES=1 but Postgres at ${POSTGRES_URL} is unreachable: ${unreachable}`,
    );
  console.warn(
    `\n⚠ SKIPPING real-Postgres tests: ${POSTGRES_URL} is unreachable (${unreachable})\n`,
  );
}
export const postgresAvailable = unreachable === null;

export type DatabaseKind = "embedded" | "postgres";

/**
 * A fresh, migrated database: an in-memory PGlite, or a schema of its own on the real server
 * (dropped by `close`), so test files never see each other's rows.
 */
export async function openTestDatabase(kind: DatabaseKind): Promise<Database> {
  const db =
    kind === "embedded"
      ? await openEmbeddedDatabase("memory://")
      : await (async () => {
          const schema = `test_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
          const admin = postgres(POSTGRES_URL, { max: 1, onnotice: () => {} });
          await admin.unsafe(`CREATE SCHEMA ${schema}`);
          await admin.end();
          const inner = connectPostgres(POSTGRES_URL, { schema, max: 4 });
          return {
            ...inner,
            async close() {
              await inner.sql.unsafe(`DROP SCHEMA ${schema} CASCADE`);
              await inner.close();
            },
          };
        })();
  await migrate(db.sql);
  return db;
}

export const TEST_LIMITS: Limits = {
  maxUploadBytes: 25 * 1024 * 1024,
  maxBatchFiles: 50,
  maxPixels: 50_000_000,
};

export type TestContext = { app: App; db: Database; logs: string[]; processor: ImageProcessor };

/**
 * Runs `body` once against the embedded database and once against the real Postgres server,
 * each with its own app. The real-server run is skipped, loudly, when the server is unreachable
 * and REQUIRE_SERVICES is not set.
 */
export function describeEachDatabase(
  title: string,
  body: (ctx: () => TestContext) => void,
  limits: Partial<Limits> = {},
) {
  for (const kind of ["embedded", "postgres"] as const) {
    const run = kind === "embedded" || postgresAvailable ? describe : describe.skip;
    run(`${title} [${kind}]`, () => {
      let ctx: TestContext | undefined;
      let processor: ImageProcessor | undefined;
      beforeAll(async () => {
        const db = await openTestDatabase(kind);
        const logs: string[] = [];
        const logger = createJsonLogger("debug", (line) => logs.push(line));
        processor = createWorkerPool({ size: 2, queueLimit: 16, timeoutMs: 60_000, logger });
        const services = createServices({
          processor,
          db,
          // Both spools get exercised: memory (edge runtimes) and files (Bun).
          spool:
            kind === "embedded"
              ? memorySpool
              : createFileSpool(join(tmpdir(), "pictor-test-spool")),
          limits: { ...TEST_LIMITS, ...limits },
          logger,
        });
        ctx = { app: createApp({ services }), db, logs, processor };
      });
      afterAll(async () => {
        await processor?.close();
        await ctx?.db.close();
      });
      body(() => {
        if (!ctx) throw new Error("test context used before beforeAll ran");
        return ctx;
      });
    });
  }
}
