import { mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import postgres from "postgres";
import type { Database } from "../db/database.ts";

/**
 * The zero-setup database: PGlite (Postgres compiled to WASM) in this process, served over a
 * private Unix socket to the same postgres.js client the real server uses, so both run one SQL
 * dialect through one code path.
 *
 * @param dataDir a directory for the data files, or "memory://" for a throwaway database
 */
export async function openEmbeddedDatabase(dataDir: string): Promise<Database> {
  if (!dataDir.startsWith("memory://")) mkdirSync(dataDir, { recursive: true });
  const pglite = await PGlite.create(dataDir);
  // A socket under /tmp: socket paths are limited to ~100 bytes, and only this process knows it.
  const path = join(
    tmpdir(),
    `pictor-pglite-${process.pid}-${crypto.randomUUID().slice(0, 8)}.sock`,
  );
  const server = new PGLiteSocketServer({ db: pglite, path });
  await server.start();
  // The socket server serves one connection at a time, and PGlite has a single session, so the
  // pool must be one connection: transactions would otherwise interleave.
  const sql = postgres({
    path,
    user: "postgres",
    database: "postgres",
    max: 1,
    onnotice: () => {},
  });
  return {
    sql,
    kind: "embedded",
    async close() {
      await sql.end({ timeout: 5 });
      await server.stop();
      await pglite.close();
      rmSync(path, { force: true });
    },
  };
}
