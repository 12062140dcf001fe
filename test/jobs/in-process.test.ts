import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type TaskSpec, TaskSpecSchema } from "../../src/core/pipeline/task-spec.ts";
import { JobImageIdsSchema } from "../../src/features/jobs/image-ids.ts";
import { createInProcessTransport } from "../../src/features/jobs/in-process-transport.ts";
import { createItemRunner } from "../../src/features/jobs/item-runner.ts";
import { createJobStore, type JobStore } from "../../src/features/jobs/job-store.ts";
import type { ItemRunner, JobRecord, JobTransport } from "../../src/features/jobs/types.ts";
import { createDeferredWork } from "../../src/platform/deferred-work.ts";
import { postgresAvailable, variantAvailable, WITH_S3 } from "../support/database.ts";
import {
  type JobTestEnv,
  jobOutcome,
  openJobTestEnv,
  seededPng,
  THUMBNAIL,
  until,
  waitForJob,
} from "./helpers.ts";

function inProcess(env: JobTestEnv, store: JobStore, maxAttempts = 3) {
  const runner: ItemRunner = createItemRunner({
    store,
    executor: env.executor,
    retry: { maxAttempts, baseMs: 20 },
    logger: env.logger,
  });
  const transport: JobTransport = createInProcessTransport({
    concurrency: 2,
    pollMs: 25,
    leaseMs: 60_000,
    logger: env.logger,
    listen: env.db.listen,
  });
  return { runner, transport };
}

for (const kind of WITH_S3) {
  const run = variantAvailable(kind) ? describe : describe.skip;

  run(`in-process jobs [${kind}]`, () => {
    let env: JobTestEnv;
    let store: JobStore;
    let images: string[];

    beforeAll(async () => {
      env = await openJobTestEnv(kind);
      store = createJobStore({ sql: env.db.sql, leaseMs: 60_000 });
      images = await env.uploadSeeded(100);
    });
    afterAll(() => env?.close());

    test("a 100-image transform job completes with 100 results, progress at 100 %", async () => {
      const { runner, transport } = inProcess(env, store);
      await transport.start(runner);
      try {
        const job = await store.create(
          { owner_id: env.ownerId, task: THUMBNAIL, image_ids: images },
          { outbox: false },
        );
        expect(job.status).toBe("queued");
        expect(job.progress).toEqual({ total: 100, done: 0, failed: 0, canceled: 0, percent: 0 });
        transport.wake();
        const done = await waitForJob(store, job.id);
        expect(done.status).toBe("succeeded");
        expect(done.progress).toEqual({
          total: 100,
          done: 100,
          failed: 0,
          canceled: 0,
          percent: 100,
        });
        expect(done.error).toBeNull();
        const outcome = await jobOutcome(env.db, job.id);
        expect(outcome.byStatus).toEqual({ succeeded: 100 });
        expect(outcome.distinctResults).toBe(100);
        expect(outcome.derivedImages).toBe(100);
        expect(outcome.linkedResults).toBe(100);
        expect(outcome.items.every((i) => i.attempts === 1)).toBe(true);
        // The results are real 32×32 PNGs owned by the job's owner.
        const [one] = await env.db.sql<
          { format: string; width: number; height: number; owner_id: string }[]
        >`SELECT format, width, height, owner_id FROM images WHERE id = ${outcome.items[0]?.result_id ?? ""}`;
        expect(one).toEqual({ format: "png", width: 32, height: 32, owner_id: env.ownerId });
        // One "item" and one "progress" event per item, a "progress" for the start, one "done".
        const events = await store.events(job.id, "0", 10_000);
        const types = events.map((e) => e.type);
        expect(types.filter((t) => t === "item")).toHaveLength(100);
        expect(types.filter((t) => t === "progress")).toHaveLength(101);
        expect(types.at(-1)).toBe("done");
        expect(types.filter((t) => t === "done")).toHaveLength(1);
        expect(events.at(-1)?.data).toEqual({
          status: "succeeded",
          error: null,
          total: 100,
          done: 100,
          failed: 0,
          canceled: 0,
          percent: 100,
        });
        const ids = events.map((e) => BigInt(e.id));
        expect(ids).toEqual([...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      } finally {
        await transport.stop();
      }
    });

    test("a failed attempt shows as retrying, with its attempt and next time, never as queued with an error", async () => {
      const poison = await env.uploadPoisoned();
      const job = await store.create(
        { owner_id: env.ownerId, task: THUMBNAIL, image_ids: [poison] },
        { outbox: false },
      );
      const { runner, transport } = inProcess(env, store, 3);
      await transport.start(runner);
      try {
        expect((await waitForJob(store, job.id, 20_000)).status).toBe("failed");
      } finally {
        await transport.stop();
      }
      type ItemEvent = {
        status: string;
        attempts: number;
        next_attempt_at: string | null;
        error: string | null;
      };
      const events = (await store.events(job.id)).filter((e) => e.type === "item");
      const items = events.map((e) => e.data as ItemEvent);
      const reason = "The PNG's image data does not inflate";
      expect(items.map((i) => [i.status, i.attempts, i.error])).toEqual([
        ["retrying", 1, reason],
        ["retrying", 2, reason],
        ["failed", 3, reason],
      ]);
      // When it runs again: a time for each wait (20 ms, then 40 ms), none once it failed.
      const [first, second] = items.map((i) => Date.parse(i.next_attempt_at ?? ""));
      expect(second).toBeGreaterThan(first as number);
      expect(items[2]?.next_attempt_at).toBeNull();
      expect(items.some((i) => i.status === "queued")).toBe(false);
      const [final] = await store.items(job.id, { limit: 1 });
      expect([final?.status, final?.attempts, final?.next_attempt_at]).toEqual(["failed", 3, null]);
    });

    test("transform items store their results on the first attempt while the renders' cache writes are still deferred", async () => {
      // As the server runs: a render's cache write waits past the response (here long past it),
      // so the item must not count on finding the rendering's bytes stored.
      const deferred = createDeferredWork(env.logger, { startAfterMs: 1_000 });
      const own = await openJobTestEnv(kind, undefined, deferred);
      try {
        const ownStore = createJobStore({ sql: own.db.sql, leaseMs: 60_000 });
        const sources = await own.uploadSeeded(3, 500);
        const { runner, transport } = inProcess(own, ownStore, 1);
        await transport.start(runner);
        try {
          const job = await ownStore.create(
            { owner_id: own.ownerId, task: THUMBNAIL, image_ids: sources },
            { outbox: false },
          );
          transport.wake();
          expect((await waitForJob(ownStore, job.id)).status).toBe("succeeded");
          const outcome = await jobOutcome(own.db, job.id);
          expect(outcome.items.map((i) => [i.status, i.attempts])).toEqual(
            sources.map(() => ["succeeded", 1]),
          );
          expect(outcome.derivedImages).toBe(3);
        } finally {
          await transport.stop();
        }
        await deferred.drain();
        // Each derived image's bytes are stored once, the render cache's row pointing at them.
        const [blobs] = await own.db.sql<{ derived: number; cached: number }[]>`
          SELECT count(DISTINCT b.sha256)::int AS derived,
                 (SELECT count(*)::int FROM render_cache WHERE image_id IN ${own.db.sql(sources)}) AS cached
          FROM images i JOIN blobs b USING (sha256) WHERE i.source_id IN ${own.db.sql(sources)}`;
        expect(blobs).toEqual({ derived: 3, cached: 3 });
      } finally {
        await own.close();
      }
    });
  });
}

const runPg = postgresAvailable ? describe : describe.skip;

runPg("in-process jobs: restarts, leases, cancel, poison [postgres]", () => {
  let env: JobTestEnv;
  let store: JobStore;

  beforeAll(async () => {
    env = await openJobTestEnv("postgres");
    store = createJobStore({ sql: env.db.sql, leaseMs: 60_000 });
  });
  afterAll(() => env?.close());

  /** Runs a job of `task` over `imageIds` to its end on a fresh transport (3 attempts an item). */
  async function runToEnd(task: TaskSpec, imageIds: string[]): Promise<JobRecord> {
    const job = await store.create(
      { owner_id: env.ownerId, task, image_ids: imageIds },
      { outbox: false },
    );
    const { runner, transport } = inProcess(env, store, 3);
    await transport.start(runner);
    try {
      return await waitForJob(store, job.id, 20_000);
    } finally {
      await transport.stop();
    }
  }

  test("stopping the transport mid-job and starting a new one resumes with no duplicate", async () => {
    const images = await env.uploadSeeded(100, 1000);
    const job = await store.create(
      { owner_id: env.ownerId, task: THUMBNAIL, image_ids: images },
      { outbox: false },
    );
    const first = inProcess(env, store);
    await first.transport.start(first.runner);
    await until(async () => ((await store.get(job.id))?.progress.done ?? 0) >= 20, 30_000);
    await first.transport.stop();
    expect(first.transport.inFlight()).toBe(0);
    const halfway = await store.get(job.id);
    expect(halfway?.status).toBe("running");
    expect(halfway?.progress.done).toBeLessThan(100);
    // Nothing is left running by a transport that stopped: every claim was finished.
    const [running] = await env.db.sql<{ count: number }[]>`
      SELECT count(*)::int AS count FROM job_items WHERE job_id = ${job.id} AND status = 'running'`;
    expect(running?.count).toBe(0);

    const second = inProcess(env, store);
    await second.transport.start(second.runner);
    try {
      const done = await waitForJob(store, job.id);
      expect(done.status).toBe("succeeded");
      const outcome = await jobOutcome(env.db, job.id);
      expect(outcome.byStatus).toEqual({ succeeded: 100 });
      expect(outcome.distinctResults).toBe(100);
      expect(outcome.derivedImages).toBe(100);
      expect(outcome.items.every((i) => i.attempts === 1)).toBe(true);
    } finally {
      await second.transport.stop();
    }
  });

  test("items claimed by a process that died are taken again when their lease runs out", async () => {
    const shortLease = createJobStore({ sql: env.db.sql, leaseMs: 1000 });
    const images = await env.uploadSeeded(10, 2000);
    const job = await shortLease.create(
      { owner_id: env.ownerId, task: THUMBNAIL, image_ids: images },
      { outbox: false },
    );
    // A "process" claims three items and dies without a word.
    const ghost = await shortLease.claim("ghost", 3);
    expect(ghost).toHaveLength(3);
    const { runner, transport } = inProcess(env, shortLease);
    await transport.start(runner);
    try {
      const done = await waitForJob(shortLease, job.id, 20_000);
      expect(done.status).toBe("succeeded");
      const outcome = await jobOutcome(env.db, job.id);
      expect(outcome.distinctResults).toBe(10);
      expect(outcome.derivedImages).toBe(10);
      expect(outcome.items.map((i) => i.attempts).sort()).toEqual([1, 1, 1, 1, 1, 1, 1, 2, 2, 2]);
    } finally {
      await transport.stop();
    }
  });

  test("cancel: queued items are canceled at once, running ones finish, the job ends canceled", async () => {
    // 500 distinct small images (8×8 keeps the upload quick).
    const images = await env.upload(Array.from({ length: 500 }, (_, i) => seededPng(5000 + i, 8)));
    const job = await store.create(
      { owner_id: env.ownerId, task: THUMBNAIL, image_ids: images },
      { outbox: false },
    );
    const { runner, transport } = inProcess(env, store);
    await transport.start(runner);
    try {
      await until(async () => ((await store.get(job.id))?.progress.done ?? 0) >= 10, 30_000);
      const canceled = await store.cancel(job.id);
      expect(canceled?.cancel_requested_at).not.toBeNull();
      const done = await waitForJob(store, job.id, 20_000);
      expect(done.status).toBe("canceled");
      const { done: ok, failed, canceled: dropped, total } = done.progress;
      expect(total).toBe(500);
      expect(failed).toBe(0);
      expect(ok + dropped).toBe(500);
      expect(dropped).toBeGreaterThan(400);
      const outcome = await jobOutcome(env.db, job.id);
      expect(outcome.byStatus).toEqual({ succeeded: ok, canceled: dropped });
      // A canceled item never ran, and only the items that ran left a result.
      expect(
        outcome.items.filter((i) => i.status === "canceled").every((i) => i.attempts === 0),
      ).toBe(true);
      expect(outcome.derivedImages).toBe(ok);
      // Canceling again, or a finished job, changes nothing.
      const again = await store.cancel(job.id);
      expect(again?.status).toBe("canceled");
      expect(again?.progress).toEqual(done.progress);
    } finally {
      await transport.stop();
    }
  });

  test("a poisoned image fails after JOB_MAX_ATTEMPTS while the rest succeed: partially_failed", async () => {
    const poison = await env.uploadPoisoned();
    const images = [...(await env.uploadSeeded(5, 3000)), poison];
    const done = await runToEnd(THUMBNAIL, images);
    expect(done.status).toBe("partially_failed");
    expect(done.progress).toEqual({ total: 6, done: 5, failed: 1, canceled: 0, percent: 100 });
    expect(done.error).toBe("1 of 6 items failed");
    const [bad] = await store.items(done.id, { limit: 1, after: 4 });
    expect(bad?.image_id).toBe(poison);
    expect(bad?.status).toBe("failed");
    expect(bad?.attempts).toBe(3);
    expect(bad?.result_id).toBeNull();
    expect(bad?.error).toBe("The PNG's image data does not inflate");
  });

  test("a parameter the image cannot satisfy fails its item at once, without retries", async () => {
    // A 100×100 crop fits the 128² images, not the 64² ones: those items can never succeed.
    const fits = await env.upload([seededPng(4000, 128), seededPng(4001, 128)]);
    const small = await env.uploadSeeded(8, 4100);
    const task = TaskSpecSchema.parse({
      transform: { operations: [{ op: "crop", left: 10, top: 10, width: 100, height: 100 }] },
    });
    const done = await runToEnd(task, [...fits, ...small]);
    expect(done.status).toBe("partially_failed");
    expect(done.progress).toEqual({ total: 10, done: 2, failed: 8, canceled: 0, percent: 100 });
    const items = await store.items(done.id, { limit: 10 });
    expect(items.map((i) => i.attempts)).toEqual(Array(10).fill(1));
    expect(
      items.filter((i) => i.status === "failed").every((i) => /crop/i.test(i.error ?? "")),
    ).toBe(true);
  });

  test("a job with every item failing ends failed; distinct image ids are required", async () => {
    const poison = await env.uploadPoisoned();
    const job = await store.create(
      { owner_id: env.ownerId, task: THUMBNAIL, image_ids: [poison] },
      { outbox: false },
    );
    const { runner, transport } = inProcess(env, store, 1);
    await transport.start(runner);
    try {
      const done = await waitForJob(store, job.id, 20_000);
      expect(done.status).toBe("failed");
      expect(done.error).toBe("All 1 items failed");
    } finally {
      await transport.stop();
    }
    // Checked once, where the ids come in (the store trusts them): repeats, non-UUIDs, none.
    const messages = (ids: string[]) =>
      JobImageIdsSchema.safeParse(ids).error?.issues.map((i) => [i.path.join("."), i.message]);
    expect(messages([poison as string, (poison as string).toUpperCase()])).toEqual([
      ["1", `Expected distinct image ids but received ${(poison as string).toUpperCase()} twice`],
    ]);
    expect(messages([poison as string, "nope"])).toEqual([
      ["1", 'Expected an image id (a UUID) but received "nope"'],
    ]);
    expect(messages([])).toEqual([["", "Expected at least 1 image id for image_ids"]]);
  });

  test("histogram and segmentation jobs store one result per item", async () => {
    const images = await env.uploadSeeded(3, 4000);
    const { runner, transport } = inProcess(env, store);
    await transport.start(runner);
    try {
      const histogram = await store.create(
        {
          owner_id: env.ownerId,
          task: { histogram: { space: "luma", bins: 16 } },
          image_ids: images,
        },
        { outbox: false },
      );
      const segmentation = await store.create(
        {
          owner_id: env.ownerId,
          task: {
            segmentation: {
              method: "otsu",
              channel: "luma",
              invert: false,
              minArea: 0,
              fillHoles: false,
              downscale: 1,
              connectivity: 8,
            },
          },
          image_ids: images,
        },
        { outbox: false },
      );
      transport.wake();
      expect((await waitForJob(store, histogram.id)).status).toBe("succeeded");
      expect((await waitForJob(store, segmentation.id)).status).toBe("succeeded");
      const hist = await store.items(histogram.id, { limit: 10 });
      expect(hist.map((i) => [i.result_kind, i.result_id])).toEqual(
        images.map((id) => ["histogram", id]),
      );
      const [cached] = await env.db.sql<{ count: number }[]>`
        SELECT count(*)::int AS count FROM analysis_cache
        WHERE kind = 'histogram' AND image_id IN ${env.db.sql(images)}`;
      expect(cached?.count).toBe(3);
      const segs = await store.items(segmentation.id, { limit: 10 });
      expect(segs.every((i) => i.result_kind === "segmentation")).toBe(true);
      const [stored] = await env.db.sql<{ count: number; owners: number }[]>`
        SELECT count(*)::int AS count, count(*) FILTER (WHERE owner_id = ${env.ownerId})::int AS owners
        FROM segmentations WHERE id IN ${env.db.sql(segs.map((i) => i.result_id ?? ""))}`;
      expect(stored).toEqual({ count: 3, owners: 3 });
    } finally {
      await transport.stop();
    }
  });
});
