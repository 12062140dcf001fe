import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { seedServerDataDir } from "./support/database.ts";
import { type RunningServer, SERVER_ADMIN, serverAuth, spawnServer } from "./support/server.ts";

type RawResponse = {
  status: number;
  headers: Map<string, string>;
  body: string;
  /** The server closed the connection after answering. */
  closed: boolean;
  ms: number;
};

/**
 * Sends `chunks` over a plain TCP connection, one write each, and reads what comes back until the
 * server closes, or a complete response (by its Content-Length) arrived and 500 ms passed.
 */
function rawRequest(url: string, chunks: (string | Uint8Array)[]): Promise<RawResponse> {
  const { hostname: host, port } = new URL(url);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), host);
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      socket.destroy();
      const text = received.toString("latin1");
      const split = text.indexOf("\r\n\r\n");
      const [statusLine, ...lines] = text.slice(0, split).split("\r\n");
      const headers = new Map(
        lines.map((l) => [
          l.slice(0, l.indexOf(":")).toLowerCase(),
          l.slice(l.indexOf(":") + 1).trim(),
        ]),
      );
      resolve({
        status: Number(statusLine?.split(" ")[1]),
        headers,
        body: received.subarray(split + 4).toString("utf8"),
        closed,
        ms: performance.now() - started,
      });
    };
    const deadline = setTimeout(() => finish(false), 10_000);
    socket.on("data", (d: Buffer) => {
      received = Buffer.concat([received, d]);
      const split = received.indexOf("\r\n\r\n");
      const length = /\r\ncontent-length: *(\d+)/i.exec(received.subarray(0, split).toString());
      if (split !== -1 && length && received.length >= split + 4 + Number(length[1])) {
        setTimeout(() => finish(false), 500);
      }
    });
    socket.on("close", () => finish(true));
    socket.on("error", (err) => (received.length > 0 ? finish(true) : reject(err)));
    socket.on("connect", () => {
      for (const chunk of chunks) socket.write(chunk);
    });
  });
}

function expectProblem(res: RawResponse, status: number, detail: RegExp) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  const problem = JSON.parse(res.body) as { status: number; detail: string };
  expect(problem.status).toBe(status);
  expect(problem.detail).toMatch(detail);
}

/** The PID of a process that has exited: nothing runs under it now. */
async function deadPid(): Promise<number> {
  const proc = Bun.spawn(["true"]);
  await proc.exited;
  return proc.pid;
}

const MAX_UPLOAD_BYTES = 4096;
const MAX_BATCH_FILES = 2;
// Two files of MAX_UPLOAD_BYTES and 1 MiB for the fields and framing.
const MAX_UPLOAD_BODY = MAX_UPLOAD_BYTES * MAX_BATCH_FILES + 1024 * 1024;

describe("the Bun server against a hostile client, and after a kill -9", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pictor-hardening-"));
  // The server's own temporary directory (TMPDIR), where its database socket goes.
  const tempDir = join(dataDir, "os-tmp");
  const spoolDir = join(dataDir, "tmp");
  const live = {
    spool: `upload-${hostname()}-${process.pid}-0a1b2c3d-${"e".repeat(32)}`,
    socket: `pictor-pglite-${process.pid}-0a1b2c3d-0e1f2a3b.sock`,
  };
  const dead = { spool: "", socket: "" };
  let server: RunningServer;
  let auth: { Authorization: string };

  beforeAll(async () => {
    mkdirSync(tempDir);
    mkdirSync(spoolDir);
    const pid = await deadPid();
    // What a killed server leaves: a partial upload, and the socket of its embedded database;
    // beside them, the same of a process that is still running (this one).
    dead.spool = `upload-${hostname()}-${pid}-0a1b2c3d-${"f".repeat(32)}`;
    dead.socket = `pictor-pglite-${pid}-0a1b2c3d-0e1f2a3b.sock`;
    for (const name of [dead.spool, live.spool]) writeFileSync(join(spoolDir, name), "partial");
    for (const name of [dead.socket, live.socket]) writeFileSync(join(tempDir, name), "");
    // Started as a restart: the first start (initdb) is tested in server.process.test.ts.
    await seedServerDataDir(dataDir);
    server = await spawnServer({
      ...SERVER_ADMIN,
      DATA_DIR: dataDir,
      TMPDIR: tempDir,
      MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES),
      MAX_BATCH_FILES: String(MAX_BATCH_FILES),
    });
    auth = await serverAuth(server.url);
  });
  afterAll(async () => {
    server?.proc.kill("SIGTERM");
    await server?.proc.exited;
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("at start, a dead process's partial upload and database socket are removed; a live one's stay", () => {
    expect(existsSync(join(spoolDir, dead.spool))).toBe(false);
    expect(existsSync(join(tempDir, dead.socket))).toBe(false);
    expect(existsSync(join(spoolDir, live.spool))).toBe(true);
    expect(existsSync(join(tempDir, live.socket))).toBe(true);
    // And the server's own socket, named so that its successor can judge it.
    const own = readdirSync(tempDir).filter((n) => n !== live.socket);
    expect(own).toEqual([
      expect.stringMatching(/^pictor-pglite-\d+-[0-9a-f]{8}-[0-9a-f]{8}\.sock$/),
    ]);
  });

  test("a 2 GB Content-Length: 413 problem naming the limit at once, the body never read", async () => {
    const signup = await rawRequest(server.url, [
      "POST /v1/auth/signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
        `Content-Length: ${2 ** 31}\r\n\r\n{"email":`,
    ]);
    expectProblem(signup, 413, /^Expected a request body of at most 1048576 bytes$/);
    expect(signup.closed).toBe(true);
    expect(signup.ms).toBeLessThan(5000);

    const upload = await rawRequest(server.url, [
      `POST /v1/images HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth.Authorization}\r\n` +
        "Content-Type: multipart/form-data; boundary=b\r\n" +
        `Content-Length: ${2 ** 31}\r\n\r\n--b\r\n`,
    ]);
    expectProblem(
      upload,
      413,
      new RegExp(`^Expected an upload body of at most ${MAX_UPLOAD_BODY} bytes \\(MAX_BATCH_FILES`),
    );
    expect(upload.closed).toBe(true);
  });

  test("a chunked upload streaming past the limit: 413 problem once it gets there", async () => {
    const field = `--b\r\nContent-Disposition: form-data; name="padding"\r\n\r\n`;
    const chunk = (text: string) => `${text.length.toString(16)}\r\n${text}\r\n`;
    const res = await rawRequest(server.url, [
      `POST /v1/images HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth.Authorization}\r\n` +
        "Content-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n",
      chunk(field),
      ...Array.from({ length: 20 }, () => chunk("x".repeat(64 * 1024))),
    ]);
    expectProblem(
      res,
      413,
      new RegExp(`^Expected an upload body of at most ${MAX_UPLOAD_BODY} bytes`),
    );
  });

  test("a 40 KB multipart part header in one piece: 413 problem naming the part-header limit", async () => {
    const body =
      `--b\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n` +
      `X-Padding: ${"p".repeat(40 * 1024)}\r\n\r\nPNG\r\n--b--\r\n`;
    const res = await rawRequest(server.url, [
      `POST /v1/images HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth.Authorization}\r\n` +
        `Content-Type: multipart/form-data; boundary=b\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    ]);
    expectProblem(
      res,
      413,
      /^Expected the headers of a multipart part to take at most 16384 bytes but they take 4\d{4}$/,
    );
  });

  test("headers over 16 KiB: a 431 problem naming the largest part, up to the 64 KiB Bun lets through", async () => {
    const header = await rawRequest(server.url, [
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
    ]);
    expectProblem(
      header,
      431,
      /^Expected a request line and headers of at most 16384 bytes but received 20041; the largest part is the x-big header \(20009 bytes\)$/,
    );
    const url = await rawRequest(server.url, [
      `GET /healthz?${"a".repeat(40_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    ]);
    expectProblem(url, 431, /the largest part is the URL \(40009 bytes\)$/);
  });

  // Bun's HTTP parser answers these before any code of ours runs (Bun.serve's `error` handler is
  // not called either), with a bodiless response and a closed connection: they stay as Bun
  // makes them. This shows it still answers at once, and fails if Bun starts sending a body of
  // its own, the cue to map it.
  test("what Bun refuses itself: 400 for a malformed request, 431 past 64 KiB of headers, at once and bodiless", async () => {
    const cases: [string, string, number][] = [
      ["garbage", "GARBAGE\r\n\r\n", 400],
      [
        "bad Content-Length",
        "POST /v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n",
        400,
      ],
      [
        "Content-Length and chunked",
        "POST /v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
      ],
      [
        "100 KB header",
        `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(100_000)}\r\n\r\n`,
        431,
      ],
    ];
    for (const [name, request, status] of cases) {
      const res = await rawRequest(server.url, [request]);
      expect([name, res.status, res.body, res.closed]).toEqual([name, status, "", true]);
      expect(res.ms).toBeLessThan(5000);
    }
    // The server is unharmed.
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });
});
