/**
 * Job throughput over RabbitMQ: a 200-thumbnail job run by 1, then by 2 worker processes, beside
 * the same thumbnails made directly (the single-image transform path, no queue), to price the
 * queueing per item. Real Postgres (DATABASE_URL) and RabbitMQ (AMQP_URL).
 *
 *   bun test/bench/jobs.bench.ts
 *   BENCH_ITEMS=100 BENCH_SIZE=320 bun test/bench/jobs.bench.ts
 *
 * Each worker process runs IMAGE_WORKERS=1 and JOB_CONCURRENCY=2 (one image thread, a second
 * item fetching or storing meanwhile); the direct run uses one image thread and two loops too,
 * so the 1-worker row and the direct row do the same pixel work on the same resources.
 */

import { createOutboxRelay } from "../../src/adapters/rabbitmq/outbox-relay.ts";
import { PipelineSpecSchema } from "../../src/core/pipeline/pipeline-spec.ts";
import { createJobStore } from "../../src/features/jobs/job-store.ts";
import { createMessageSigner } from "../../src/features/jobs/message-signing.ts";
import { openJobTestEnv, seededPng, spawnWorker, waitForJob } from "../jobs/helpers.ts";
import { RABBITMQ_URL, testTopology } from "../support/rabbitmq.ts";

const items = Number(process.env.BENCH_ITEMS ?? 200);
const size = Number(process.env.BENCH_SIZE ?? 640);
const SECRET = "bench-worker-secret-0123456789abcdef0123";
const WARMUP = 40;

// Each run gets its own quality, so none is served from another's render cache.
const pipeline = (quality: number) =>
  PipelineSpecSchema.parse({
    operations: [{ op: "resize", width: 160, height: 120, fit: "cover" }],
    format: "jpeg",
    quality,
  });
const thumbnail = (quality: number) => ({ transform: pipeline(quality) });

const env = await openJobTestEnv("postgres", 1);
const queues = testTopology(3, 1000);
const store = createJobStore({ sql: env.db.sql, leaseMs: 60_000 });
const relay = createOutboxRelay({
  sql: env.db.sql,
  url: RABBITMQ_URL,
  topology: queues.topology,
  signer: await createMessageSigner(SECRET, 86_400_000),
  logger: env.logger,
  pollMs: 50,
});
relay.start();

try {
  console.log(`uploading ${items} distinct ${size}×${size} PNGs…`);
  const images = await env.upload(Array.from({ length: items }, (_, i) => seededPng(i, size)));

  // Direct: the transform service, two at a time, one image thread (warmed up like the workers).
  const direct = pipeline(79);
  for (const id of images.slice(0, WARMUP)) {
    await env.transforms.transform(env.principal, id, pipeline(69));
  }
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    [0, 1].map(async () => {
      while (next < images.length) {
        const id = images[next++] as string;
        await env.transforms.transform(env.principal, id, direct);
      }
    }),
  );
  const directMs = performance.now() - t0;

  const rows: { label: string; ms: number }[] = [{ label: "direct (no queue)", ms: directMs }];
  for (const [workers, quality] of [
    [1, 80],
    [2, 81],
  ] as const) {
    const procs = await Promise.all(
      Array.from({ length: workers }, () =>
        spawnWorker({
          schema: env.schema as string,
          prefix: queues.prefix,
          secret: SECRET,
          env: { IMAGE_WORKERS: "1", JOB_CONCURRENCY: "2", JOB_RETRY_BASE_MS: "1000" },
        }),
      ),
    );
    // A fresh process runs its first images slower (the WebAssembly codecs are still being
    // optimised): a small warm-up job first, as a long-running worker would have had.
    const warmup = await store.create(
      {
        owner_id: env.ownerId,
        task: thumbnail(quality - 10),
        image_ids: images.slice(0, WARMUP * workers),
      },
      { outbox: true },
    );
    relay.wake();
    await waitForJob(store, warmup.id, 600_000);
    const start = performance.now();
    const job = await store.create(
      { owner_id: env.ownerId, task: thumbnail(quality), image_ids: images },
      { outbox: true },
    );
    relay.wake();
    const done = await waitForJob(store, job.id, 600_000);
    const ms = performance.now() - start;
    if (done.status !== "succeeded") throw new Error(`job ended ${done.status}: ${done.error}`);
    rows.push({ label: `${workers} worker process${workers > 1 ? "es" : ""}`, ms });
    for (const p of procs) {
      p.proc.kill("SIGTERM");
      await p.proc.exited;
    }
  }

  const perItem = (ms: number) => ms / items;
  console.log(`\n${items} thumbnails (${size}×${size} PNG → 160×120 JPEG q80), 2 cores\n`);
  console.log("| run | seconds | items/s | ms/item |");
  console.log("| --- | ---: | ---: | ---: |");
  for (const r of rows) {
    console.log(
      `| ${r.label} | ${(r.ms / 1000).toFixed(2)} | ${(items / (r.ms / 1000)).toFixed(1)} | ${perItem(r.ms).toFixed(1)} |`,
    );
  }
  const one = rows[1]?.ms ?? 0;
  console.log(
    `\nqueueing overhead per item (1 worker vs direct, same threads): ${(perItem(one) - perItem(directMs)).toFixed(1)} ms`,
  );
} finally {
  await relay.stop();
  await queues.dispose();
  await env.close();
}
