/**
 * Hits on the hot path over real HTTP, 20 connections (autocannon), one server process on a
 * real Postgres: a bare Bun server returning the same bytes (the ceiling), signed-URL render
 * hits, and authenticated render hits. Prints a Markdown table.
 *
 *   npm run bench:http
 *   BENCH_SECONDS=5 npm run bench:http
 */
import autocannon from "autocannon";
import { seededPng } from "../jobs/helpers.ts";
import { createScratchDatabase } from "../support/database.ts";
import { type RunningServer, SERVER_ADMIN, serverAuth, spawnServer } from "../support/server.ts";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 20;

type Row = { name: string; rps: number; p50: number; p99: number; errors: number };

async function measure(name: string, url: string, headers: Record<string, string> = {}) {
  // A short warm-up, so that the JIT and the connections are settled before counting.
  await autocannon({ url, connections: CONNECTIONS, duration: 1, headers });
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, headers });
  const errors = result.errors + result.non2xx + result.timeouts;
  return {
    name,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors,
  } satisfies Row;
}

/** The bare ceiling: Bun.serve answering the same bytes and headers, in a process of its own. */
async function bareServer(bytes: Uint8Array): Promise<{ url: string; stop(): Promise<void> }> {
  const script = `
    const body = new Uint8Array(await Bun.stdin.arrayBuffer());
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(body, {
      headers: { "Content-Type": "image/webp", ETag: '"bench"', "Cache-Control": "public, max-age=600" },
    }) });
    console.log(server.url.href);`;
  const proc = Bun.spawn([process.execPath, "-e", script], { stdin: bytes, stdout: "pipe" });
  const reader = proc.stdout.getReader();
  const { value } = await reader.read();
  const url = new TextDecoder().decode(value).trim();
  return {
    url,
    async stop() {
      proc.kill();
      await proc.exited;
    },
  };
}

const scratch = await createScratchDatabase("pictor_bench");
let server: RunningServer | undefined;
try {
  server = await spawnServer({
    DATABASE_URL: scratch.url,
    ...SERVER_ADMIN,
    JWT_KEYS: "bench:0123456789abcdef0123456789abcdef",
    URL_SIGNING_KEYS: "bench:fedcba9876543210fedcba9876543210",
    // What is measured is the hit path, not the request budget.
    RATE_LIMIT_REQUESTS: "0",
  });
  const auth = await serverAuth(server.url);
  const form = new FormData();
  form.append("file", new File([seededPng(3, 640)], "bench.png"));
  const uploaded = await fetch(`${server.url}/v1/images`, {
    method: "POST",
    body: form,
    headers: auth,
  });
  const id = ((await uploaded.json()) as { images: { id: string }[] }).images[0]?.id;
  const path = `/v1/images/${id}/render?w=200&format=webp`;
  const first = await fetch(`${server.url}${path}`, { headers: auth });
  if (first.status !== 200) throw new Error(`render: ${first.status} ${await first.text()}`);
  const bytes = new Uint8Array(await first.arrayBuffer());
  const signing = await fetch(`${server.url}/v1/signed-urls`, {
    method: "POST",
    headers: { ...auth, "Content-Type": "application/json" },
    body: JSON.stringify({ path, expires_in: 3600 }),
  });
  const signed = new URL(((await signing.json()) as { url: string }).url);

  const bare = await bareServer(bytes);
  const rows: Row[] = [];
  try {
    rows.push(await measure("bare Bun server, same bytes (ceiling)", bare.url));
  } finally {
    await bare.stop();
  }
  rows.push(
    await measure("signed-URL render hit", `${server.url}${signed.pathname}${signed.search}`),
  );
  rows.push(await measure("authenticated render hit (JWT)", `${server.url}${path}`, auth));

  const ceiling = rows[0]?.rps ?? 1;
  console.log(
    `\nRender hits over HTTP: ${bytes.length} B WebP, ${CONNECTIONS} connections, ${seconds} s each, real Postgres\n`,
  );
  console.log("| what | req/s | p50 ms | p99 ms | of ceiling | errors |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
  for (const r of rows) {
    const share = `${Math.round((r.rps / ceiling) * 100)} %`;
    console.log(`| ${r.name} | ${r.rps} | ${r.p50} | ${r.p99} | ${share} | ${r.errors} |`);
  }
} finally {
  if (server) {
    server.proc.kill("SIGTERM");
    await server.proc.exited;
  }
  await scratch.drop();
}
// Something the load generator opens outlives its runs and kept the process waiting for minutes
// after the table was printed; everything of ours is closed above.
process.exit(0);
