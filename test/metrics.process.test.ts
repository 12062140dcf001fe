import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnWorker } from "./jobs/helpers.ts";
import {
  createScratchDatabase,
  postgresAvailable,
  type ScratchDatabase,
  seedServerDataDir,
} from "./support/database.ts";
import { fixture } from "./support/fixtures.ts";
import { RABBITMQ_URL, rabbitAvailable, testTopology } from "./support/rabbitmq.ts";
import { type RunningServer, SERVER_ADMIN, serverAuth, spawnServer } from "./support/server.ts";

const TOKEN = "metrics-token-0123456789";
const BEARER = { Authorization: `Bearer ${TOKEN}` };

/**
 * The value of the series `name` whose labels include `labels` in a Prometheus exposition, or
 * undefined when there is none.
 */
function sample(text: string, name: string, labels: Record<string, string> = {}) {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return undefined;
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url, { headers: BEARER });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
  return res.text();
}

/** Polls `check` until it is true, for at most `ms`. */
async function until(check: () => Promise<boolean>, ms: number, what: string) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

async function stop(
  server: RunningServer | { proc: { kill(s: string): void; exited: Promise<number> } },
) {
  server.proc.kill("SIGTERM");
  expect(await server.proc.exited).toBe(0);
}

/**
 * Traffic on a running API (an upload, a render twice, a 401, a 404, a histogram job that emails
 * its owner), then its /metrics: every named series is there with the values the traffic makes.
 */
async function trafficThenScrape(server: RunningServer) {
  const { url } = server;
  // The token is checked before anything is exported.
  const anonymous = await fetch(`${url}/metrics`);
  expect(anonymous.status).toBe(401);
  expect(anonymous.headers.get("content-type")).toContain("application/problem+json");
  expect(
    (await fetch(`${url}/metrics`, { headers: { Authorization: "Bearer nope" } })).status,
  ).toBe(401);

  const auth = await serverAuth(url);
  const jpeg = await fixture("exif-orientation/Landscape_1.jpg");
  const form = new FormData();
  form.append("file", new File([jpeg], "photo.jpg"));
  expect((await fetch(`${url}/v1/images`, { method: "POST", body: form })).status).toBe(401);
  const uploaded = await fetch(`${url}/v1/images`, { method: "POST", body: form, headers: auth });
  expect(uploaded.status).toBe(201);
  const id = ((await uploaded.json()) as { images: { id: string }[] }).images[0]?.id;
  for (let i = 0; i < 2; i++) {
    const render = await fetch(`${url}/v1/images/${id}/render?w=40&format=webp`, { headers: auth });
    expect(render.status).toBe(200);
    await render.arrayBuffer();
  }
  expect((await fetch(`${url}/v1/nothing-here`, { headers: auth })).status).toBe(404);
  const submitted = await fetch(`${url}/v1/jobs`, {
    method: "POST",
    headers: { ...auth, "Content-Type": "application/json" },
    body: JSON.stringify({ image_ids: [id], task: { histogram: {} }, notify: "always" }),
  });
  expect(submitted.status).toBe(202);
  const jobId = ((await submitted.json()) as { id: string }).id;
  await until(
    async () => {
      const job = await fetch(`${url}/v1/jobs/${jobId}`, { headers: auth });
      return ((await job.json()) as { status: string }).status === "succeeded";
    },
    30_000,
    "the job",
  );
  let text = "";
  await until(
    async () => {
      text = await scrape(`${url}/metrics`);
      return (sample(text, "pictor_notification_deliveries_total", { channel: "email" }) ?? 0) > 0;
    },
    30_000,
    "the job's email",
  );

  const upload = { method: "POST", route: "/v1/images" };
  expect(sample(text, "pictor_http_requests_total", { ...upload, status: "201" })).toBe(1);
  expect(sample(text, "pictor_http_requests_total", { ...upload, status: "401" })).toBe(1);
  const render = { method: "GET", route: "/v1/images/:id/render", status: "200" };
  expect(sample(text, "pictor_http_requests_total", render)).toBe(2);
  expect(sample(text, "pictor_http_request_duration_seconds_count", render)).toBe(2);
  const renderSeconds = sample(text, "pictor_http_request_duration_seconds_sum", render) ?? 0;
  expect(renderSeconds).toBeGreaterThan(0);
  expect(renderSeconds).toBeLessThan(60);
  // Every render took more than 1 ms: none lands in the first bucket, all in +Inf.
  expect(
    sample(text, "pictor_http_request_duration_seconds_bucket", { ...render, le: "+Inf" }),
  ).toBe(2);
  expect(sample(text, "pictor_http_requests_total", { route: "unmatched", status: "404" })).toBe(1);
  expect(sample(text, "pictor_http_requests_total", { route: "/metrics", status: "401" })).toBe(2);

  expect(sample(text, "pictor_upload_bytes_total")).toBe(jpeg.length);
  expect(sample(text, "pictor_render_cache_lookups_total", { result: "miss" })).toBe(1);
  expect(sample(text, "pictor_render_cache_lookups_total", { result: "hit" })).toBe(1);

  // The render that missed, and the job's histogram, ran in an image worker.
  for (const kind of ["pipeline", "histogram"]) {
    const ran = { kind, outcome: "ok" };
    expect(sample(text, "pictor_image_task_duration_seconds_count", ran)).toBeGreaterThanOrEqual(1);
    const seconds = sample(text, "pictor_image_task_duration_seconds_sum", ran) ?? 0;
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(30);
  }
  // Idle at the scrape.
  expect(sample(text, "pictor_image_queue_depth", { queue: "admission" })).toBe(0);
  expect(sample(text, "pictor_image_queue_depth", { queue: "workers" })).toBe(0);
  expect(sample(text, "pictor_image_workers_busy")).toBe(0);
  expect(sample(text, "pictor_image_workers")).toBe(2);

  expect(sample(text, "pictor_job_items", { state: "succeeded" })).toBe(1);
  expect(sample(text, "pictor_job_items", { state: "queued" })).toBe(0);
  expect(sample(text, "pictor_job_items", { state: "failed" })).toBe(0);
  expect(
    sample(text, "pictor_notification_deliveries_total", { channel: "email", outcome: "sent" }),
  ).toBe(1);
  // prom-client's process metrics come along.
  expect(sample(text, "process_resident_memory_bytes")).toBeGreaterThan(10 * 1024 * 1024);
}

const ENV = {
  ...SERVER_ADMIN,
  JWT_KEYS: "k1:0123456789abcdef0123456789abcdef",
  METRICS_TOKEN: TOKEN,
  IMAGE_WORKERS: "2",
};

describe("GET /metrics after traffic", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pictor-metrics-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  test("on the embedded database: every named series, with the values the traffic made", async () => {
    await seedServerDataDir(dataDir);
    const server = await spawnServer({ ...ENV, DATA_DIR: dataDir });
    try {
      await trafficThenScrape(server);
    } finally {
      await stop(server);
    }
  }, 90_000);

  describe.skipIf(!postgresAvailable)("on Postgres", () => {
    let scratch: ScratchDatabase | undefined;
    afterAll(() => scratch?.drop());

    test("every named series, with the values the traffic made", async () => {
      scratch = await createScratchDatabase("pictor_metrics");
      const server = await spawnServer({ ...ENV, DATA_DIR: dataDir, DATABASE_URL: scratch.url });
      try {
        await trafficThenScrape(server);
      } finally {
        await stop(server);
      }
    }, 90_000);
  });
});

describe.skipIf(!postgresAvailable || !rabbitAvailable)("a job worker's own metrics", () => {
  let scratch: ScratchDatabase | undefined;
  const queues = testTopology(3, 100);
  afterAll(async () => {
    await queues.dispose();
    await scratch?.drop();
  });

  test("served on WORKER_METRICS_PORT behind METRICS_TOKEN: the items it ran, by kind", async () => {
    scratch = await createScratchDatabase("pictor_wmetrics");
    const secret = "a worker secret of at least 32 characters";
    const broker = {
      DATABASE_URL: scratch.url,
      AMQP_URL: RABBITMQ_URL,
      AMQP_QUEUE_PREFIX: queues.prefix,
      WORKER_SECRET: secret,
      METRICS_TOKEN: TOKEN,
    };
    // The API only relays jobs over the broker: every item runs in the worker.
    const server = await spawnServer({ ...ENV, ...broker });
    const worker = await spawnWorker({
      schema: "public",
      prefix: queues.prefix,
      secret,
      env: { ...broker, WORKER_METRICS_PORT: "0" },
    });
    try {
      const ready = worker.lines.find((l) => l.msg === "worker ready") as { metrics?: string };
      const metricsUrl = String(ready.metrics);
      expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      expect((await fetch(metricsUrl)).status).toBe(401);

      const auth = await serverAuth(server.url);
      const jpeg = await fixture("exif-orientation/Landscape_1.jpg");
      const ids: string[] = [];
      for (let i = 0; i < 2; i++) {
        const form = new FormData();
        // Two different files: a job's items are its distinct images.
        form.append("file", new File([jpeg, new Uint8Array([i])], `photo-${i}.jpg`));
        const res = await fetch(`${server.url}/v1/images`, {
          method: "POST",
          body: form,
          headers: auth,
        });
        expect(res.status).toBe(201);
        ids.push(((await res.json()) as { images: { id: string }[] }).images[0]?.id as string);
      }
      const submitted = await fetch(`${server.url}/v1/jobs`, {
        method: "POST",
        headers: { ...auth, "Content-Type": "application/json" },
        body: JSON.stringify({
          image_ids: ids,
          task: { transform: { operations: [{ op: "resize", width: 32 }], format: "png" } },
          notify: "never",
        }),
      });
      expect(submitted.status).toBe(202);
      const jobId = ((await submitted.json()) as { id: string }).id;
      await until(
        async () => {
          const job = await fetch(`${server.url}/v1/jobs/${jobId}`, { headers: auth });
          return ((await job.json()) as { status: string }).status === "succeeded";
        },
        30_000,
        "the job",
      );

      const text = await scrape(metricsUrl);
      const ran = { kind: "pipeline", outcome: "ok" };
      expect(sample(text, "pictor_image_task_duration_seconds_count", ran)).toBe(2);
      expect(sample(text, "pictor_image_task_duration_seconds_sum", ran)).toBeGreaterThan(0);
      expect(sample(text, "pictor_job_items", { state: "succeeded" })).toBe(2);
      expect(sample(text, "pictor_image_workers_busy")).toBe(0);
      expect(sample(text, "process_resident_memory_bytes")).toBeGreaterThan(10 * 1024 * 1024);
      // A worker serves no API: its metrics have no HTTP series.
      expect(sample(text, "pictor_http_requests_total")).toBeUndefined();
      // The API ran no pipeline (it only relayed the job), and sees the same items.
      const api = await scrape(`${server.url}/metrics`);
      expect(sample(api, "pictor_image_task_duration_seconds_count", ran)).toBeUndefined();
      expect(sample(api, "pictor_job_items", { state: "succeeded" })).toBe(2);
    } finally {
      worker.proc.kill("SIGTERM");
      expect(await worker.proc.exited).toBe(0);
      await stop(server);
    }
  }, 90_000);
});
