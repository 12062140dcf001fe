import { mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { removeLeftovers, tempFileName } from "../node/leftovers.ts";
import { takePidLock } from "../node/pid-lock.ts";
import type { Database, Listen } from "./database.ts";
import type { PgliteThreadReply, PgliteThreadRequest } from "./pglite-thread.ts";

const SOCKET_PREFIX = "pictor-pglite-";
const threadUrl = new URL("./pglite-thread.ts", import.meta.url);

// Bun's Worker, beyond the DOM type: an unref'd thread does not keep the process alive.
type Thread = Worker & { ref(): void; unref(): void };

type Reply<K extends string> = Extract<PgliteThreadReply, Record<K, unknown>>;

/**
 * The thread that runs every embedded database of this process, started with the first; it
 * keeps the process alive only while a database is open.
 */
const databaseThread = (() => {
  let thread: Thread | null = null;
  let nextDb = 1;
  let nextSeq = 1;
  let opened = 0;
  const waiting = new Map<
    number,
    { resolve: (r: PgliteThreadReply) => void; reject: (e: Error) => void }
  >();
  // The thread keeps the process alive only while a database is open or a question waits: a
  // failed first open must not hold up the exit of a server that could not start.
  const keepAlive = () => {
    if (opened > 0 || waiting.size > 0) thread?.ref();
    else thread?.unref();
  };
  const start = () => {
    const worker = new Worker(threadUrl) as Thread;
    worker.onmessage = (event: MessageEvent<PgliteThreadReply>) => {
      const reply = event.data;
      const waiter = waiting.get(reply.seq);
      waiting.delete(reply.seq);
      if ("failed" in reply) waiter?.reject(new Error(reply.failed));
      else waiter?.resolve(reply);
      keepAlive();
    };
    worker.onerror = (event) => {
      // A dead thread takes every database with it: whoever waits hears so, the next open
      // starts a new thread.
      for (const waiter of waiting.values()) waiter.reject(new Error(event.message));
      waiting.clear();
      worker.terminate();
      thread = null;
      opened = 0;
    };
    return worker;
  };
  type Question = PgliteThreadRequest extends infer R
    ? R extends unknown
      ? Omit<R, "seq">
      : never
    : never;
  const ask = <K extends string>(
    question: Question,
    transfer: Transferable[] = [],
  ): Promise<Reply<K>> => {
    thread ??= start();
    const worker = thread;
    const seq = nextSeq++;
    return new Promise((resolve, reject) => {
      waiting.set(seq, { resolve: resolve as (r: PgliteThreadReply) => void, reject });
      keepAlive();
      worker.postMessage({ ...question, seq }, transfer);
    });
  };
  return {
    async open(dataDir: string, path: string, loadDataDir?: ArrayBuffer) {
      const db = nextDb++;
      await ask({ db, open: { dataDir, path, loadDataDir } }, loadDataDir ? [loadDataDir] : []);
      opened++;
      keepAlive();
      return {
        dump: async () => (await ask<"dumped">({ db, dump: true })).dumped,
        close: async () => {
          try {
            await ask({ db, close: true });
          } finally {
            opened = Math.max(0, opened - 1);
            keepAlive();
          }
        },
      };
    },
  };
})();

/** An embedded database can also hand over its files, to start others as copies. */
export type EmbeddedDatabase = Database & { dumpDataDir(): Promise<ArrayBuffer> };

/**
 * The zero-setup database: PGlite (Postgres compiled to WASM) in a thread of this process, served
 * over a private Unix socket to the same postgres.js client the real server uses, so both run one
 * SQL dialect through one code path, and the HTTP thread only reads and writes a socket.
 *
 * @param dataDir a directory for the data files, or "memory://" for a throwaway database
 * @param copyOf.loadDataDir the files of another (dumpDataDir), to start as its copy: the
 *   tests start each suite's database from a migrated template, skipping initdb
 */
export async function openEmbeddedDatabase(
  dataDir: string,
  copyOf: { loadDataDir?: ArrayBuffer } = {},
): Promise<EmbeddedDatabase> {
  const lock = dataDir.startsWith("memory://") ? null : lockDataDir(dataDir);
  const release = () => lock?.release();
  try {
    return await serve(dataDir, copyOf, release);
  } catch (err) {
    release();
    throw err;
  }
}

/**
 * One process owns an embedded data directory: PGlite has no locking of its own, so a second
 * server (or the CLI) on the same directory would write beside the first and lose its writes.
 */
function lockDataDir(dataDir: string): { release(): void } {
  mkdirSync(dataDir, { recursive: true });
  const lock = takePidLock(`${dataDir.replace(/\/+$/, "")}.lock`);
  if ("heldBy" in lock) {
    throw new Error(
      `the embedded database under ${dataDir} is in use by PID ${lock.heldBy}; stop it first, or set DATABASE_URL`,
    );
  }
  return lock;
}

async function serve(
  dataDir: string,
  copyOf: { loadDataDir?: ArrayBuffer },
  onClosed: () => void,
): Promise<EmbeddedDatabase> {
  // A socket under /tmp: socket paths are limited to ~100 bytes, and only this process knows it.
  // Those of killed processes stay (a kill -9 runs no cleanup): remove them first.
  removeLeftovers(tmpdir(), SOCKET_PREFIX, ".sock");
  const path = join(tmpdir(), tempFileName(SOCKET_PREFIX, ".sock", 8));
  const embedded = await databaseThread.open(dataDir, path, copyOf.loadDataDir);
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
    dumpDataDir: embedded.dump,
    async close() {
      try {
        await sql.end({ timeout: 5 });
        await embedded.close();
        rmSync(path, { force: true });
      } finally {
        onClosed();
      }
    },
  };
}
