import { mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import postgres from "postgres";
import type { Database, Listen } from "../db/database.ts";
import { removeLeftovers, tempFileName } from "./leftovers.ts";

const SOCKET_PREFIX = "pictor-pglite-";

/**
 * The zero-setup database: PGlite (Postgres compiled to WASM) in this process, served over a
 * private Unix socket to the same postgres.js client the real server uses, so both run one SQL
 * dialect through one code path.
 *
 * @param dataDir a directory for the data files, or "memory://" for a throwaway database
 */
export async function openEmbeddedDatabase(dataDir: string): Promise<Database> {
  if (!dataDir.startsWith("memory://")) mkdirSync(dataDir, { recursive: true });
  return serveEmbeddedDatabase(await PGlite.create(dataDir));
}

/**
 * Serves an open PGlite as a Database (closing the database closes it). The tests start theirs
 * from a migrated template's data (`PGlite.create({ loadDataDir })`), which skips initdb.
 */
export async function serveEmbeddedDatabase(pglite: PGlite): Promise<Database> {
  // A socket under /tmp: socket paths are limited to ~100 bytes, and only this process knows it.
  // Those of killed processes stay (a kill -9 runs no cleanup): remove them first.
  removeLeftovers(tmpdir(), SOCKET_PREFIX, ".sock");
  const path = join(tmpdir(), tempFileName(SOCKET_PREFIX, ".sock", 8));
  const server = new PGLiteSocketServer({ db: pglite, path });
  await server.start();
  const listeners = new Map<string, Set<(payload: string) => void>>();
  // The LISTEN of each channel, once: a second subscriber waits for the first one's.
  const listening = new Map<string, Promise<void>>();
  // The socket server serves one connection at a time, and PGlite has a single session, so the
  // pool must be one connection: transactions would otherwise interleave.
  const options = {
    path,
    user: "postgres",
    database: "postgres",
    max: 1,
    onnotice: () => {},
    // postgres.js's sql.listen() needs a second connection, which the socket server cannot
    // serve, and pglite.listen()'s callbacks never see a NOTIFY raised through the socket: the
    // server streams the raw protocol, NotificationResponse included, to its one client. So
    // that client LISTENs itself and hands what arrives (after the notifying statement, or on
    // its commit) to the subscribers. `onnotify` is postgres.js's own (untyped) hook.
    onnotify: (channel: string, payload: string) => {
      for (const fn of listeners.get(channel) ?? []) fn(payload);
    },
  };
  const sql = postgres(options);
  const listen: Listen = async (channel, onPayload) => {
    let ready = listening.get(channel);
    if (!ready) {
      // One session for the process, so one LISTEN serves every subscriber, across reconnects.
      ready = sql`LISTEN ${sql(channel)}`.then(() => {});
      listening.set(channel, ready);
      // A failed LISTEN is tried again by the next subscriber.
      ready.catch(() => listening.delete(channel));
    }
    await ready;
    const fns = listeners.get(channel) ?? new Set();
    listeners.set(channel, fns);
    const fn = (payload: string) => onPayload(payload);
    fns.add(fn);
    return {
      async unlisten() {
        fns.delete(fn);
      },
    };
  };
  return {
    sql,
    kind: "embedded",
    listen,
    async close() {
      await sql.end({ timeout: 5 });
      await server.stop();
      await pglite.close();
      rmSync(path, { force: true });
    },
  };
}
