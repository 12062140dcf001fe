import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { createOutboxRelay } from "../../src/adapters/rabbitmq/outbox-relay.ts";
import { createRabbitTransport } from "../../src/adapters/rabbitmq/rabbit-transport.ts";
import { createItemRunner } from "../../src/features/jobs/item-runner.ts";
import { createJobStore, type JobStore } from "../../src/features/jobs/job-store.ts";
import { createMessageSigner } from "../../src/features/jobs/message-signing.ts";
import { postgresAvailable } from "../support/database.ts";
import {
  drain,
  publishRaw,
  queueDepth,
  RABBITMQ_URL,
  rabbitAvailable,
  testTopology,
} from "../support/rabbitmq.ts";
import {
  type JobTestEnv,
  jobOutcome,
  openJobTestEnv,
  THUMBNAIL,
  until,
  waitForJob,
} from "./helpers.ts";

const SECRET = "test-worker-secret-0123456789abcdef";
const DAY = 86_400_000;

const run = postgresAvailable && rabbitAvailable ? describe : describe.skip;

/** A relay, a consumer and their own queues, as an API process and a worker would have them. */
async function rig(
  env: JobTestEnv,
  store: JobStore,
  options: { maxAttempts?: number; baseMs?: number; relayUrl?: string } = {},
) {
  const maxAttempts = options.maxAttempts ?? 3;
  const baseMs = options.baseMs ?? 50;
  const queues = testTopology(maxAttempts, baseMs);
  const signer = await createMessageSigner(SECRET, DAY);
  const runner = createItemRunner({
    store,
    executor: env.executor,
    retry: { maxAttempts, baseMs },
    logger: env.logger,
  });
  const transport = createRabbitTransport({
    url: RABBITMQ_URL,
    topology: queues.topology,
    concurrency: 2,
    signer,
    logger: env.logger,
  });
  const relay = createOutboxRelay({
    sql: env.db.sql,
    url: options.relayUrl ?? RABBITMQ_URL,
    topology: queues.topology,
    signer,
    logger: env.logger,
    pollMs: 50,
    reconnect: { initialMs: 100, maxMs: 400 },
  });
  return {
    ...queues,
    signer,
    runner,
    transport,
    relay,
    async dispose() {
      await transport.stop();
      await relay.stop();
      await queues.dispose();
    },
  };
}

/** A TCP forwarder to the broker that can be switched on later: "the broker comes back". */
async function brokerProxy() {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const target = new URL(RABBITMQ_URL);
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  return {
    url: `amqp://${target.username}:${target.password}@127.0.0.1:${port}`,
    async open() {
      server = createServer((client) => {
        const upstream = tcpConnect(Number(target.port || 5672), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on("error", () => {});
          s.on("close", () => sockets.delete(s));
        }
        client.pipe(upstream).pipe(client);
      });
      await new Promise<void>((resolve) => server?.listen(port, "127.0.0.1", resolve));
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    },
  };
}

run("RabbitMQ transport [postgres]", () => {
  let env: JobTestEnv;
  let store: JobStore;

  beforeAll(async () => {
    env = await openJobTestEnv("postgres");
    store = createJobStore({ sql: env.db.sql, leaseMs: 60_000 });
  });
  afterAll(() => env?.close());

  test("a 100-image job travels outbox → relay → queue → worker and completes with 100 results", async () => {
    const images = await env.uploadSeeded(100);
    const r = await rig(env, store);
    try {
      await r.transport.start(r.runner);
      r.relay.start();
      const job = await store.create(
        { owner_id: env.ownerId, task: THUMBNAIL, image_ids: images },
        { outbox: true },
      );
      r.relay.wake();
      const done = await waitForJob(store, job.id);
      expect(done.status).toBe("succeeded");
      expect(done.progress.percent).toBe(100);
      const outcome = await jobOutcome(env.db, job.id);
      expect(outcome.byStatus).toEqual({ succeeded: 100 });
      expect(outcome.distinctResults).toBe(100);
      expect(outcome.derivedImages).toBe(100);
      expect(outcome.linkedResults).toBe(100);
      expect(r.relay.published()).toBe(100);
      const [left] = await env.db.sql<{ count: number }[]>`
        SELECT count(*)::int AS count FROM outbox WHERE published_at IS NULL`;
      expect(left?.count).toBe(0);
      await until(async () => r.transport.inFlight() === 0, 5000, "acks");
      expect(await queueDepth(r.topology.work)).toBe(0);
      expect(await queueDepth(r.topology.dead)).toBe(0);
    } finally {
      await r.dispose();
    }
  });

  test("with the broker unreachable a job is accepted, and runs once the relay gets through", async () => {
    const images = await env.uploadSeeded(10, 100);
    const proxy = await brokerProxy();
    const r = await rig(env, store, { relayUrl: proxy.url });
    try {
      await r.transport.start(r.runner);
      r.relay.start();
      const job = await store.create(
        { owner_id: env.ownerId, task: THUMBNAIL, image_ids: images },
        { outbox: true },
      );
      expect(job.status).toBe("queued");
      // Once the relay has tried and failed, nothing has moved.
      await until(
        async () => env.logs.some((l) => l.includes("outbox relay: broker unreachable")),
        10_000,
        "the relay to find the broker unreachable",
      );
      expect((await store.get(job.id))?.status).toBe("queued");
      expect(r.relay.published()).toBe(0);
      const [waiting] = await env.db.sql<{ count: number }[]>`
        SELECT count(*)::int AS count FROM outbox WHERE published_at IS NULL`;
      expect(waiting?.count).toBe(10);

      await proxy.open();
      const done = await waitForJob(store, job.id, 20_000);
      expect(done.status).toBe("succeeded");
      expect(r.relay.published()).toBe(10);
      const outcome = await jobOutcome(env.db, job.id);
      expect(outcome.distinctResults).toBe(10);
      expect(outcome.derivedImages).toBe(10);
    } finally {
      await r.dispose();
      await proxy.close();
    }
  });

  test("unsigned, forged, tampered, stale and malformed messages are dead-lettered unprocessed", async () => {
    const images = await env.uploadSeeded(1, 200);
    const r = await rig(env, store);
    try {
      // No outbox rows: the only messages are the ones published by hand below.
      const job = await store.create(
        { owner_id: env.ownerId, task: THUMBNAIL, image_ids: images },
        { outbox: false },
      );
      const [item] = await store.items(job.id, { limit: 1 });
      const ref = { item_id: item?.id ?? "", job_id: job.id, attempt: 1 };
      const stranger = await createMessageSigner("somebody-else-s-secret-0123456789abc", DAY);
      const genuine = JSON.parse(new TextDecoder().decode(await r.signer.sign(ref)));
      const encode = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
      await r.transport.start(r.runner);
      await publishRaw(r.topology.work, [
        encode({ ...ref, issued_at: Date.now() }),
        await stranger.sign(ref),
        encode({ ...genuine, attempt: 2 }),
        await r.signer.sign(ref, Date.now() - 2 * DAY),
        new TextEncoder().encode("not json at all"),
      ]);
      await until(async () => (await queueDepth(r.topology.dead)) === 5, 10_000, "dead letters");
      const [still] = await store.items(job.id, { limit: 1 });
      expect(still?.status).toBe("queued");
      expect(still?.attempts).toBe(0);
      expect((await store.get(job.id))?.status).toBe("queued");
      expect(await store.events(job.id)).toEqual([]);
      const reasons = env.logs
        .filter((l) => l.includes("rejected a job message"))
        .map((l) => JSON.parse(l).reason);
      expect(reasons.sort()).toEqual(["forged", "forged", "malformed", "stale", "unsigned"]);
      const dead = await drain(r.topology.dead);
      expect(dead.map((d) => d.reason)).toEqual([
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
      ]);

      // The same item, properly signed, runs.
      await publishRaw(r.topology.work, [await r.signer.sign(ref)]);
      expect((await waitForJob(store, job.id, 10_000)).status).toBe("succeeded");
    } finally {
      await r.dispose();
    }
  });

  test("a poisoned item is retried through the delay queues, then fails into the dead-letter queue", async () => {
    const poison = await env.uploadPoisoned();
    const images = [...(await env.uploadSeeded(4, 300)), poison];
    const r = await rig(env, store, { maxAttempts: 3, baseMs: 50 });
    try {
      await r.transport.start(r.runner);
      r.relay.start();
      const started = Date.now();
      const job = await store.create(
        { owner_id: env.ownerId, task: THUMBNAIL, image_ids: images },
        { outbox: true },
      );
      r.relay.wake();
      const done = await waitForJob(store, job.id, 20_000);
      expect(done.status).toBe("partially_failed");
      expect(done.progress).toEqual({ total: 5, done: 4, failed: 1, canceled: 0, percent: 100 });
      const items = await store.items(job.id, { limit: 10 });
      const bad = items.find((i) => i.image_id === poison);
      expect(bad?.status).toBe("failed");
      expect(bad?.attempts).toBe(3);
      expect(bad?.error).toBe("The PNG's image data does not inflate");
      // Two waits in the delay queues: 50 ms, then 100 ms.
      expect(Date.now() - started).toBeGreaterThanOrEqual(150);
      await until(async () => (await queueDepth(r.topology.dead)) === 1, 5000, "dead letter");
      const [dead] = await drain(r.topology.dead);
      expect(JSON.parse(dead?.body ?? "{}")).toMatchObject({ item_id: bad?.id, attempt: 3 });
      for (const q of r.topology.retry) expect(await queueDepth(q.queue)).toBe(0);
    } finally {
      await r.dispose();
    }
  });
});
