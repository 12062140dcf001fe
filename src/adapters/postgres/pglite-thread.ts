// The embedded database's own thread: PGlite runs Postgres compiled to WASM synchronously, so on
// the HTTP thread every query (a 1 MiB blob chunk turned into hex, a sort) stopped the event loop;
// 50 parallel renders of a 16 MB original kept it at 100 % CPU for minutes, /readyz and SIGTERM
// included (issue 18). Here it only delays other queries, which wait on the socket meanwhile.
// One thread serves every embedded database of the process (the tests open one per suite), so
// PGlite's WebAssembly is compiled once.
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

declare const self: Worker;

/** `seq` pairs a reply with its request; `db` names the database it is about. */
export type PgliteThreadRequest = { seq: number; db: number } & (
  | { open: { dataDir: string; path: string; loadDataDir?: ArrayBuffer } }
  | { dump: true }
  | { close: true }
);
export type PgliteThreadReply = { seq: number } & (
  | { opened: true }
  | { dumped: ArrayBuffer }
  | { closed: true }
  | { failed: string }
);

const open = new Map<number, { pglite: PGlite; server: PGLiteSocketServer }>();

self.onmessage = async (event: MessageEvent<PgliteThreadRequest>) => {
  const request = event.data;
  const { seq, db: id } = request;
  try {
    if ("open" in request) {
      const { dataDir, path, loadDataDir } = request.open;
      const pglite = await PGlite.create(
        dataDir,
        loadDataDir ? { loadDataDir: new Blob([loadDataDir]) } : {},
      );
      const server = new PGLiteSocketServer({ db: pglite, path });
      await server.start();
      open.set(id, { pglite, server });
      self.postMessage({ seq, opened: true } satisfies PgliteThreadReply);
    } else if ("dump" in request) {
      const db = open.get(id);
      if (!db) throw new Error(`no embedded database ${id}`);
      const data = await (await db.pglite.dumpDataDir("none")).arrayBuffer();
      self.postMessage({ seq, dumped: data } satisfies PgliteThreadReply, [data]);
    } else {
      const db = open.get(id);
      open.delete(id);
      await db?.server.stop();
      await db?.pglite.close();
      self.postMessage({ seq, closed: true } satisfies PgliteThreadReply);
    }
  } catch (err) {
    const failed = err instanceof Error ? err.message : String(err);
    self.postMessage({ seq, failed } satisfies PgliteThreadReply);
  }
};
