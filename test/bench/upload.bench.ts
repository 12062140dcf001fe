/**
 * Upload throughput and the server's peak RSS for one batch of large files, against the embedded
 * database and the real Postgres server, with the bytes in Postgres and (BLOB_STORE=s3) in
 * s3rver, side by side.
 *
 *   npm run bench:upload                      # 50 files × 20 MB
 *   BENCH_FILES=10 BENCH_FILE_MB=5 npm run bench:upload
 *
 * The body is generated while it is sent, so the client holds one file at a time; the server
 * runs as its own process so that its RSS high-water mark (VmHWM) is its own.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { POSTGRES_URL } from "../support/database.ts";
import { noisePng } from "../support/fixtures.ts";
import { startTestS3 } from "../support/s3.ts";
import { spawnServer } from "../support/server.ts";

const files = Number(process.env.BENCH_FILES ?? 50);
const fileMb = Number(process.env.BENCH_FILE_MB ?? 20);
const MB = 1024 * 1024;

function memoryOf(pid: number) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rssMb: kb("VmRSS") / 1024, peakMb: kb("VmHWM") / 1024 };
}

/** A multipart body of `files` distinct noise PNGs, made one file at a time as the server reads. */
function batchBody(boundary: string) {
  const encoder = new TextEncoder();
  let index = 0;
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (index === files) {
        controller.enqueue(encoder.encode(`--${boundary}--\r\n`));
        return controller.close();
      }
      const png = noisePng(fileMb * MB);
      sent += png.length;
      controller.enqueue(
        encoder.encode(
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="noise-${index}.png"\r\n` +
            "Content-Type: image/png\r\n\r\n",
        ),
      );
      controller.enqueue(png);
      controller.enqueue(encoder.encode("\r\n"));
      index++;
    },
  });
  return { stream, sentBytes: () => sent };
}

// The uploads are an account's like any other: the server makes this admin at start.
const ACCOUNT = { ADMIN_EMAIL: "bench@example.com", ADMIN_PASSWORD: "a long benchmark passphrase" };

async function login(url: string): Promise<string> {
  const res = await fetch(`${url}/v1/auth/token`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email: ACCOUNT.ADMIN_EMAIL, password: ACCOUNT.ADMIN_PASSWORD }),
  });
  if (res.status !== 200) throw new Error(`login: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function run(label: string, env: Record<string, string>) {
  const server = await spawnServer({ ...env, ...ACCOUNT, MAX_BATCH_FILES: String(files) });
  try {
    const token = await login(server.url);
    const before = memoryOf(server.proc.pid);
    const boundary = `bench${crypto.randomUUID()}`;
    const body = batchBody(boundary);
    const started = performance.now();
    const res = await fetch(`${server.url}/v1/images`, {
      method: "POST",
      body: body.stream,
      headers: {
        "Content-Type": `multipart/form-data; boundary=${boundary}`,
        Authorization: `Bearer ${token}`,
      },
    });
    const result = (await res.json()) as { images: unknown[]; errors: unknown[] };
    const seconds = (performance.now() - started) / 1000;
    const after = memoryOf(server.proc.pid);
    if (res.status !== 201)
      throw new Error(`${label}: HTTP ${res.status} ${JSON.stringify(result.errors)}`);
    return {
      "database, blob store": label,
      files: result.images.length,
      "MB sent": Math.round(body.sentBytes() / MB),
      seconds: Number(seconds.toFixed(2)),
      "MB/s": Number((body.sentBytes() / MB / seconds).toFixed(1)),
      "RSS at start (MB)": Math.round(before.rssMb),
      "peak RSS (MB)": Math.round(after.peakMb),
    };
  } finally {
    server.proc.kill("SIGTERM");
    await server.proc.exited;
  }
}

const rows = [];
const dataDir = mkdtempSync(join(tmpdir(), "pictor-bench-"));
try {
  // The first start runs initdb, which leaves a far larger heap than a normal start: measure a
  // service that has started before, as it runs in practice.
  const first = await spawnServer({ DATA_DIR: dataDir });
  first.proc.kill("SIGTERM");
  await first.proc.exited;
  rows.push(await run("embedded (PGlite)", { DATA_DIR: dataDir }));
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}

const database = `pictor_bench_${Date.now()}`;
const admin = postgres(POSTGRES_URL, { max: 1, onnotice: () => {} });
try {
  await admin.unsafe(`CREATE DATABASE ${database}`);
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${database}`;
  const spool = mkdtempSync(join(tmpdir(), "pictor-bench-"));
  rows.push(await run("postgres server, postgres", { DATABASE_URL: url.href, DATA_DIR: spool }));
  await admin.unsafe(`DROP DATABASE ${database} WITH (FORCE)`);
  await admin.unsafe(`CREATE DATABASE ${database}`);
  const s3 = await startTestS3("pictor-bench");
  try {
    rows.push(
      await run("postgres server, s3 (s3rver)", {
        DATABASE_URL: url.href,
        DATA_DIR: spool,
        ...s3.env,
      }),
    );
  } finally {
    await s3.close();
  }
  rmSync(spool, { recursive: true, force: true });
} catch (err) {
  console.warn(`real Postgres skipped: ${err}`);
} finally {
  await admin.unsafe(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => {});
  await admin.end();
}

console.log(
  `\nUpload of one batch: ${files} files × ${fileMb} MB (distinct random-pixel PNGs); s3rver runs in` +
    " the benchmark's process, on the same 127.0.0.1 and disk: its speed is a floor, not MinIO's",
);
console.table(rows);
