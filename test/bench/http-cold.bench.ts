/**
 * Cold renders over HTTP: Pictor's render endpoint with a cache miss on every request (a distinct
 * width each time) beside a minimal sharp HTTP server doing the same work on the same photos
 * held in memory, at concurrency 1 and 4, in one run; and the first render after start beside a
 * warm one.
 *
 *   npm run bench:http-cold
 *   BENCH_REQUESTS=40 npm run bench:http-cold    # renders per photo and concurrency (default 24)
 *
 * Pictor runs as `npm start` does, on the embedded database, with IMAGE_WORKERS=2 and no
 * per-user limits in the way (one benchmark user sends all the requests); sharp runs in this
 * process with libvips' default of one thread per core. Both answer
 * GET /…/render?w=<width>&format=jpeg&q=80.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { ONE_USER_UNLIMITED, SERVER_ADMIN, serverAuth, spawnServer } from "../support/server.ts";
import { type Photo, realPhotos } from "./photos.ts";

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 24);
const CONCURRENCY = [1, 4];

sharp.cache(false);

const photos = (await realPhotos()).filter((p) =>
  ["9 MP baseline JPEG", "17 MP WebP"].some((n) => p.name.startsWith(n)),
);

// The sharp server: the photos by index, rendered per request like Pictor's endpoint.
const sharpServer = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(request) {
    const url = new URL(request.url);
    const photo = photos[Number(url.pathname.split("/")[1])] as Photo;
    const width = Number(url.searchParams.get("w"));
    const body = await sharp(photo.bytes)
      .rotate()
      .resize({ width })
      .jpeg({ quality: 80 })
      .toBuffer();
    return new Response(body, { headers: { "Content-Type": "image/jpeg" } });
  },
});

const dataDir = mkdtempSync(join(tmpdir(), "pictor-bench-"));
const server = await spawnServer({
  ...SERVER_ADMIN,
  DATA_DIR: dataDir,
  ...ONE_USER_UNLIMITED,
});

const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))] ?? 0;

/** `count` GETs of `urlFor(i)`, `concurrency` at a time: requests per second and latencies. */
async function load(urlFor: (i: number) => string, headers: HeadersInit, concurrency: number) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < REQUESTS) {
        const i = next++;
        const t = performance.now();
        const res = await fetch(urlFor(i), { headers });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`${urlFor(i)}: HTTP ${res.status}`);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { rps: REQUESTS / ((performance.now() - started) / 1000), latencies };
}

try {
  const auth = await serverAuth(server.url);
  const ids: string[] = [];
  for (const photo of photos) {
    const form = new FormData();
    form.append("file", new Blob([photo.bytes]), `photo.${photo.format}`);
    const res = await fetch(`${server.url}/v1/images`, {
      method: "POST",
      body: form,
      headers: auth,
    });
    if (res.status !== 201) throw new Error(`upload: HTTP ${res.status} ${await res.text()}`);
    ids.push(((await res.json()) as { images: { id: string }[] }).images[0]?.id as string);
  }

  // A distinct width per request in each run: every Pictor render is a cache miss.
  let widthBase = 300;
  const pictorUrl = (p: number) => (i: number) =>
    `${server.url}/v1/images/${ids[p]}/render?w=${widthBase + i}&format=jpeg&q=80`;
  const sharpUrl = (p: number) => (i: number) => `${sharpServer.url}${p}?w=${widthBase + i}`;

  // The first render once the server reports ready (GET /readyz answers 200, as a deployment's
  // health check asks; it listens only once its image workers are warm), then the same photo
  // warm. Without the check, the first render after the uploads paid ~20 ms on the client's side
  // (measured: 86 ms, and 64 ms after a /healthz that itself took 1 ms).
  const readiness = await fetch(`${server.url}/readyz`);
  if (readiness.status !== 200) throw new Error(`/readyz: HTTP ${readiness.status}`);
  await readiness.arrayBuffer();
  const first = performance.now();
  const firstRes = await fetch(pictorUrl(0)(0), { headers: auth });
  await firstRes.arrayBuffer();
  const firstMs = performance.now() - first;
  widthBase += 1;
  const warm = await load(pictorUrl(0), auth, 1);
  widthBase += REQUESTS;

  const rows = [];
  for (const [p, photo] of photos.entries()) {
    for (const concurrency of CONCURRENCY) {
      // Alternating, so that a busy moment of a shared machine falls on both.
      const pictor = await load(pictorUrl(p), auth, concurrency);
      const viaSharp = await load(sharpUrl(p), {}, concurrency);
      widthBase += REQUESTS;
      console.log(`${photo.name}, concurrency ${concurrency}: done`);
      rows.push({
        photo: photo.name,
        concurrency,
        "pictor req/s": Number(pictor.rps.toFixed(2)),
        "sharp req/s": Number(viaSharp.rps.toFixed(2)),
        "throughput ratio": Number((pictor.rps / viaSharp.rps).toFixed(2)),
        "≥ 0.67": pictor.rps / viaSharp.rps >= 0.67 ? "yes" : "NO",
        "pictor p50 / p99 ms": `${percentile(pictor.latencies, 50).toFixed(0)} / ${percentile(pictor.latencies, 99).toFixed(0)}`,
        "sharp p50 / p99 ms": `${percentile(viaSharp.latencies, 50).toFixed(0)} / ${percentile(viaSharp.latencies, 99).toFixed(0)}`,
      });
    }
  }
  console.log(
    `\nCold renders (cache misses) → w=300+ JPEG q80, ${REQUESTS} requests per row; Pictor: 2 image workers`,
  );
  console.table(rows);
  const warmMs = percentile(warm.latencies, 50);
  console.log(
    `First render after start ${firstMs.toFixed(0)} ms, warm median ${warmMs.toFixed(0)} ms: ` +
      `${(firstMs / warmMs).toFixed(2)}× (${firstMs / warmMs <= 1.5 ? "within" : "OUTSIDE"} 1.5×)`,
  );
  for (const photo of photos) {
    const c1 = rows.find((r) => r.photo === photo.name && r.concurrency === 1);
    const c4 = rows.find((r) => r.photo === photo.name && r.concurrency === 4);
    if (c1 && c4) {
      const scale = c4["pictor req/s"] / c1["pictor req/s"];
      console.log(
        `${photo.name}: Pictor at concurrency 4 = ${scale.toFixed(3)}× its single-request rate (${scale >= 1.8 ? "≥" : "<"} 1.8×)`,
      );
    }
  }
} finally {
  server.proc.kill("SIGTERM");
  await server.proc.exited;
  sharpServer.stop(true);
  rmSync(dataDir, { recursive: true, force: true });
}
