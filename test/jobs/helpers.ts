import type { Subprocess } from "bun";
import type { Database } from "../../src/adapters/postgres/database.ts";
import type { Limits } from "../../src/config/config.ts";
import { TaskSpecSchema } from "../../src/core/pipeline/task-spec.ts";
import type { Principal } from "../../src/features/accounts/principal.ts";
import type { ImageService } from "../../src/features/images/image-service.ts";
import { createJobExecutor } from "../../src/features/jobs/job-executor.ts";
import type { JobStore } from "../../src/features/jobs/job-store.ts";
import type { JobRecord } from "../../src/features/jobs/types.ts";
import type { DeferredWork } from "../../src/platform/deferred-work.ts";
import type { Logger } from "../../src/platform/logger.ts";
import type { ImageUseCases } from "../../src/wiring/assemble-services.ts";
import { openTestEnv, POSTGRES_URL, type TestVariant } from "../support/database.ts";
import { makePng } from "../support/fixtures.ts";
import { RABBITMQ_URL } from "../support/rabbitmq.ts";

export const JOB_LIMITS: Limits = {
  maxUploadBytes: 25 * 1024 * 1024,
  maxBatchFiles: 1000,
  maxPixels: 50_000_000,
  maxUserBytes: 10 * 1024 ** 3,
  maxUserImages: 100_000,
};

/** A thumbnail task: fast on 64×64 inputs, and it produces a derived image per item. */
export const THUMBNAIL = TaskSpecSchema.parse({
  transform: { operations: [{ op: "resize", width: 32, height: 32 }], format: "png" },
});

/** A 64×64 PNG whose pixels depend on `seed`, so every upload is a distinct image. */
export function seededPng(seed: number, size = 64): Uint8Array<ArrayBuffer> {
  return makePng(size, size, (x, y) => [
    (x * 4 + seed) & 255,
    (y * 4 + seed * 7) & 255,
    (x ^ y ^ seed) & 255,
    255,
  ]);
}

/**
 * A PNG that passes every upload check (signature, header, chunk CRCs, IEND) but whose pixel
 * data is not a zlib stream: it fails each time it is decoded, the "poisoned" item.
 */
export function poisonedPng(): Uint8Array<ArrayBuffer> {
  const good = seededPng(1);
  const view = new DataView(good.buffer);
  // Chunks after the 8-byte signature: IHDR (25 bytes in all), then IDAT.
  const idat = 8 + 25;
  const length = view.getUint32(idat);
  const data = good.subarray(idat + 8, idat + 8 + length);
  // A zlib header, then bytes no deflate block starts with.
  data.fill(0xff);
  data.set([0x78, 0x9c]);
  view.setUint32(idat + 8 + length, Bun.hash.crc32(good.subarray(idat + 4, idat + 8 + length)));
  return good;
}

/**
 * Stores the poisoned PNG as an upload made before uploads were decoded was stored (they now
 * refuse it): written as a derived image of `source`, which nothing decodes on the way in, then
 * made an original named `filename`. Returns its id.
 */
export async function storePoisoned(
  db: Database,
  images: ImageService,
  source: { id: string; owner_id: string },
  filename: string,
): Promise<string> {
  const bytes = poisonedPng();
  const { id } = await images.storeDerived(
    source,
    { format: "png", width: 64, height: 64, bytes },
    null,
  );
  await db.sql`UPDATE images SET source_id = NULL, filename = ${filename} WHERE id = ${id}`;
  return id;
}

const streamOf = async function* (bytes: Uint8Array) {
  yield bytes;
};

export type JobTestEnv = {
  db: Database;
  /** The schema of a real-server test database (for processes that must share it). */
  schema: string | null;
  ownerId: string;
  principal: Principal;
  logger: Logger;
  logs: string[];
  executor: ReturnType<typeof createJobExecutor>;
  transforms: ImageUseCases["transforms"];
  upload(bytes: Uint8Array[]): Promise<string[]>;
  uploadSeeded(count: number, firstSeed?: number): Promise<string[]>;
  /** The poisoned PNG, stored as an upload from before uploads were decoded (storePoisoned). */
  uploadPoisoned(): Promise<string>;
  close(): Promise<void>;
};

/**
 * The test environment (the production wiring, jobs not started) seen from the job executor:
 * the real one over the real image services, for a user who uploads directly through them.
 */
export async function openJobTestEnv(
  kind: TestVariant,
  poolSize?: number,
  deferred?: DeferredWork,
): Promise<JobTestEnv> {
  const env = await openTestEnv(kind, {
    limits: JOB_LIMITS,
    ...(poolSize === undefined ? {} : { poolSize }),
    ...(deferred ? { deferred } : {}),
  });
  let schema: string | null = null;
  try {
    [{ schema } = { schema: null }] = await env.db.sql<{ schema: string | null }[]>`
      SELECT current_schema() AS schema`;
  } catch (err) {
    // The caller gets no env to close: this is the only chance to drop the schema.
    await env.close().catch(() => {});
    throw err;
  }
  const { images, transforms, analysis, segmentations, logger } = env.services;
  const principal: Principal = { userId: env.user.id, role: "user", via: "token", keyId: null };

  async function upload(files: Uint8Array[]): Promise<string[]> {
    const result = await images.upload(
      principal,
      (async function* () {
        for (const [i, bytes] of files.entries()) {
          yield { filename: `${i}.png`, body: streamOf(bytes) };
        }
      })(),
    );
    if (result.refused.length > 0) throw result.refused[0]?.error;
    return result.images.map((r) => r.id);
  }

  return {
    db: env.db,
    schema: kind === "embedded" ? null : schema,
    ownerId: env.user.id,
    principal,
    logger,
    logs: env.logs,
    executor: createJobExecutor({ images, transforms, analysis, segmentations }),
    transforms,
    upload,
    uploadSeeded: (count, firstSeed = 0) =>
      upload(Array.from({ length: count }, (_, i) => seededPng(firstSeed + i))),
    async uploadPoisoned() {
      const [source] = await upload([seededPng(9999)]);
      return storePoisoned(
        env.db,
        images,
        { id: source as string, owner_id: env.user.id },
        "0.png",
      );
    },
    close: env.close,
  };
}

/** Polls until the job is finished (or `timeoutMs` passes: then throws with where it stands). */
export async function waitForJob(
  store: JobStore,
  jobId: string,
  timeoutMs = 60_000,
): Promise<JobRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await store.get(jobId);
    if (!job) throw new Error(`job ${jobId} vanished`);
    if (job.finished_at) return job;
    if (Date.now() > deadline) {
      throw new Error(`job ${jobId} not finished after ${timeoutMs} ms: ${JSON.stringify(job)}`);
    }
    await Bun.sleep(50);
  }
}

/** Polls `check` until it returns true. */
export async function until(check: () => Promise<boolean>, timeoutMs = 30_000, what = "condition") {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/**
 * What the job left in the database: its items' outcomes, and the derived images made from its
 * sources (to see that no redelivery left a second one).
 */
export async function jobOutcome(db: Database, jobId: string) {
  const items = await db.sql<
    { status: string; attempts: number; result_id: string | null; image_id: string }[]
  >`SELECT status, attempts, result_id, image_id FROM job_items WHERE job_id = ${jobId} ORDER BY position`;
  const [derived] = await db.sql<{ count: number; sources: number }[]>`
    SELECT count(*)::int AS count, count(DISTINCT source_id)::int AS sources FROM images
    WHERE source_id IN (SELECT image_id FROM job_items WHERE job_id = ${jobId})`;
  const [linked] = await db.sql<{ count: number }[]>`
    SELECT count(*)::int AS count FROM images i JOIN job_items j ON j.result_id = i.id
    WHERE j.job_id = ${jobId} AND i.source_id = j.image_id`;
  const results = items.map((i) => i.result_id).filter((r): r is string => r !== null);
  return {
    items,
    byStatus: items.reduce<Record<string, number>>((acc, i) => {
      acc[i.status] = (acc[i.status] ?? 0) + 1;
      return acc;
    }, {}),
    distinctResults: new Set(results).size,
    derivedImages: derived?.count ?? 0,
    derivedSources: derived?.sources ?? 0,
    /** Results that are images derived from their own item's source. */
    linkedResults: linked?.count ?? 0,
  };
}

const entry = new URL("../../src/adapters/bun/job-worker.ts", import.meta.url).pathname;

export type WorkerProcess = {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  lines: { msg?: string; [k: string]: unknown }[];
  workerId: string;
};

/**
 * `bun src/adapters/bun/job-worker.ts` on a test schema and queue prefix, over RabbitMQ; resolves
 * once it consumes.
 */
export async function spawnWorker(options: {
  schema: string;
  prefix: string;
  secret: string;
  env?: Record<string, string>;
}): Promise<WorkerProcess> {
  const { schema, prefix, secret } = options;
  const url = `${POSTGRES_URL}${POSTGRES_URL.includes("?") ? "&" : "?"}search_path=${schema}`;
  const proc = Bun.spawn([process.execPath, entry], {
    env: {
      PATH: process.env.PATH ?? "",
      DATABASE_URL: url,
      AMQP_URL: RABBITMQ_URL,
      WORKER_SECRET: secret,
      AMQP_QUEUE_PREFIX: prefix,
      JOB_CONCURRENCY: "2",
      IMAGE_WORKERS: "1",
      JOB_MAX_ATTEMPTS: "3",
      JOB_RETRY_BASE_MS: "100",
      LOG_LEVEL: "info",
      ...options.env,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const lines: WorkerProcess["lines"] = [];
  let workerId: string | null = null;
  let ready: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    ready = resolve;
  });
  void (async () => {
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of proc.stdout) {
      pending += decoder.decode(chunk, { stream: true });
      const parts = pending.split("\n");
      pending = parts.pop() ?? "";
      for (const line of parts.filter(Boolean)) {
        const parsed = JSON.parse(line);
        lines.push(parsed);
        if (parsed.msg === "job transport started") workerId = parsed.workerId;
        if (parsed.msg === "worker ready") ready();
      }
    }
  })();
  const exited = proc.exited.then(async (code) => {
    throw new Error(
      `worker exited (${code}) before it was ready: ${await new Response(proc.stderr).text()}`,
    );
  });
  await Promise.race([started, exited]);
  return { proc, lines, workerId: workerId ?? "" };
}
