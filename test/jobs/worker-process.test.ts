import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createOutboxRelay, type OutboxRelay } from "../../src/adapters/rabbitmq/outbox-relay.ts";
import { createJobStore, type JobStore } from "../../src/features/jobs/job-store.ts";
import { createMessageSigner } from "../../src/features/jobs/message-signing.ts";
import { closeAll, postgresAvailable } from "../support/database.ts";
import { RABBITMQ_URL, rabbitAvailable, testTopology } from "../support/rabbitmq.ts";
import {
  type JobTestEnv,
  jobOutcome,
  openJobTestEnv,
  spawnWorker,
  THUMBNAIL,
  until,
  type WorkerProcess,
  waitForJob,
} from "./helpers.ts";

const SECRET = "test-worker-secret-for-processes-0123456789";

const run = postgresAvailable && rabbitAvailable ? describe : describe.skip;

run("worker processes over RabbitMQ [postgres]", () => {
  let env: JobTestEnv;
  let store: JobStore;
  let relay: OutboxRelay;
  const queues = testTopology(3, 100);
  const spawned: WorkerProcess[] = [];

  beforeAll(async () => {
    env = await openJobTestEnv("postgres");
    store = createJobStore({ sql: env.db.sql, leaseMs: 60_000 });
    relay = createOutboxRelay({
      sql: env.db.sql,
      url: RABBITMQ_URL,
      topology: queues.topology,
      signer: await createMessageSigner(SECRET, 86_400_000),
      logger: env.logger,
      pollMs: 50,
    });
    relay.start();
  });
  afterAll(() =>
    closeAll(
      () => {
        for (const w of spawned) w.proc.kill(9);
      },
      () => relay?.stop(),
      () => queues.dispose(),
      () => env?.close(),
    ),
  );

  test("kill -9 of a worker holding items mid-job: the job completes with exactly 100 results", async () => {
    const images = await env.uploadSeeded(100);
    const schema = env.schema as string;
    const [victim, survivor] = await Promise.all([
      spawnWorker({ schema, prefix: queues.prefix, secret: SECRET }),
      spawnWorker({ schema, prefix: queues.prefix, secret: SECRET }),
    ]);
    spawned.push(victim as WorkerProcess, survivor as WorkerProcess);
    if (!victim || !survivor) throw new Error("workers did not start");
    expect(victim.workerId).not.toBe(survivor.workerId);

    const job = await store.create(
      { owner_id: env.ownerId, task: THUMBNAIL, image_ids: images },
      { outbox: true },
    );
    relay.wake();
    // Mid-job, and the victim is processing something right now.
    await until(
      async () => {
        const [row] = await env.db.sql<{ done: number; held: number }[]>`
          SELECT (SELECT done FROM jobs WHERE id = ${job.id}) AS done,
                 (SELECT count(*)::int FROM job_items WHERE job_id = ${job.id}
                    AND status = 'running' AND claimed_by = ${victim.workerId}) AS held`;
        return (row?.done ?? 0) >= 5 && (row?.held ?? 0) > 0;
      },
      30_000,
      "the victim to hold items mid-job",
    );
    victim.proc.kill(9);
    await victim.proc.exited;
    expect(victim.proc.signalCode).toBe("SIGKILL");
    const atKill = await store.get(job.id);
    expect(atKill?.progress.done).toBeLessThan(100);

    const done = await waitForJob(store, job.id, 60_000);
    expect(done.status).toBe("succeeded");
    const outcome = await jobOutcome(env.db, job.id);
    expect(outcome.byStatus).toEqual({ succeeded: 100 });
    expect(outcome.distinctResults).toBe(100);
    // No redelivery left a second derived image behind, nor one not recorded as a result.
    expect(outcome.derivedImages).toBe(100);
    expect(outcome.derivedSources).toBe(100);
    expect(outcome.linkedResults).toBe(100);
    // What the victim held was delivered again and run by the survivor.
    expect(outcome.items.some((i) => i.attempts >= 2)).toBe(true);

    // SIGTERM: the survivor stops cleanly.
    survivor.proc.kill("SIGTERM");
    expect(await survivor.proc.exited).toBe(0);
    expect(survivor.lines.some((l) => l.msg === "worker stopped")).toBe(true);
  });

  test("SIGTERM mid-job finishes and acknowledges the items in hand; another worker does the rest", async () => {
    const images = await env.uploadSeeded(40, 500);
    const schema = env.schema as string;
    const first = await spawnWorker({ schema, prefix: queues.prefix, secret: SECRET });
    spawned.push(first);
    const job = await store.create(
      { owner_id: env.ownerId, task: THUMBNAIL, image_ids: images },
      { outbox: true },
    );
    relay.wake();
    await until(async () => ((await store.get(job.id))?.progress.done ?? 0) >= 5, 30_000);
    first.proc.kill("SIGTERM");
    expect(await first.proc.exited).toBe(0);
    // Nothing it took is left running: it finished what it held before leaving.
    const [held] = await env.db.sql<{ count: number }[]>`
      SELECT count(*)::int AS count FROM job_items
      WHERE job_id = ${job.id} AND status = 'running'`;
    expect(held?.count).toBe(0);
    const halfway = await store.get(job.id);
    expect(halfway?.progress.done).toBeLessThan(40);

    const second = await spawnWorker({ schema, prefix: queues.prefix, secret: SECRET });
    spawned.push(second);
    const done = await waitForJob(store, job.id, 60_000);
    expect(done.status).toBe("succeeded");
    const outcome = await jobOutcome(env.db, job.id);
    expect(outcome.distinctResults).toBe(40);
    expect(outcome.derivedImages).toBe(40);
    expect(outcome.items.every((i) => i.attempts === 1)).toBe(true);
    second.proc.kill("SIGTERM");
    expect(await second.proc.exited).toBe(0);
  });
});
