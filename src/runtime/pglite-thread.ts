// The embedded database's own thread: PGlite runs Postgres compiled to WASM synchronously, so on
// the HTTP thread every query (a 1 MiB blob chunk turned into hex, a sort) stopped the event loop;
// 50 parallel renders of a 16 MB original kept it at 100 % CPU for minutes, /readyz and SIGTERM
// included (issue 18). Here it only delays other queries, which wait on the socket meanwhile.
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

declare const self: Worker;

export type PgliteThreadRequest = { open: { dataDir: string; path: string } } | { close: true };
export type PgliteThreadReply = { opened: true } | { closed: true } | { failed: string };

let running: { pglite: PGlite; server: PGLiteSocketServer } | null = null;

self.onmessage = async (event: MessageEvent<PgliteThreadRequest>) => {
  const reply = (message: PgliteThreadReply) => self.postMessage(message);
  try {
    if ("open" in event.data) {
      const pglite = await PGlite.create(event.data.open.dataDir);
      const server = new PGLiteSocketServer({ db: pglite, path: event.data.open.path });
      await server.start();
      running = { pglite, server };
      reply({ opened: true });
    } else {
      await running?.server.stop();
      await running?.pglite.close();
      running = null;
      reply({ closed: true });
    }
  } catch (err) {
    reply({ failed: err instanceof Error ? err.message : String(err) });
  }
};
