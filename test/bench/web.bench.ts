/**
 * How fast the gallery page (`/`) renders its HTML for a user with 500 images, on a warm app:
 * the session lookup, the user, one page of 48 images and the JSX rendering, through
 * `app.request` (no socket), on the embedded database and on the real Postgres server.
 * Thumbnails are separate requests (render URLs, cached), not part of this number.
 *
 *   bun test/bench/web.bench.ts
 *   BENCH_IMAGES=2000 BENCH_REQUESTS=500 bun test/bench/web.bench.ts
 */

import { seededPng } from "../jobs/helpers.ts";
import { openTestEnv, postgresAvailable } from "../support/database.ts";

const imageCount = Number(process.env.BENCH_IMAGES ?? 500);
const requests = Number(process.env.BENCH_REQUESTS ?? 200);
const WARMUP = 30;
const BATCH = 50;

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;

const rows: Record<string, string | number>[] = [];
for (const kind of postgresAvailable
  ? (["embedded", "postgres"] as const)
  : (["embedded"] as const)) {
  const env = await openTestEnv(kind);
  try {
    const { rawApp, user } = env;
    for (let start = 0; start < imageCount; start += BATCH) {
      const form = new FormData();
      for (let i = start; i < Math.min(imageCount, start + BATCH); i++) {
        form.append("file", new File([seededPng(i, 16)], `photo-${i}.png`));
      }
      const res = await user.app.request("/v1/images", { method: "POST", body: form });
      if (res.status !== 201) throw new Error(`upload: ${res.status} ${await res.text()}`);
    }
    const login = await rawApp.request("/login", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: "http://localhost" },
      body: new URLSearchParams({ email: user.email, password: user.password }),
    });
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] as string;
    const get = async () => {
      const res = await rawApp.request("/", { headers: { Cookie: cookie } });
      const html = await res.text();
      if (res.status !== 200 || !html.includes("photo-")) throw new Error(`gallery: ${res.status}`);
      return html.length;
    };
    for (let i = 0; i < WARMUP; i++) await get();
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < requests; i++) {
      const t0 = performance.now();
      bytes = await get();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    rows.push({
      database: kind,
      images: imageCount,
      requests,
      "html KB": Math.round(bytes / 1024),
      "p50 ms": percentile(times, 50).toFixed(2),
      "p95 ms": percentile(times, 95).toFixed(2),
      "max ms": (times.at(-1) as number).toFixed(2),
    });
  } finally {
    await env.close();
  }
}
console.log(`\nGET / (gallery HTML, ${requests} warm requests, one at a time)`);
console.table(rows);
process.exit(0);
