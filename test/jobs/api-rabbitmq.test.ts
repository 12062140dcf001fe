import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createJobRuntime, type JobRuntime } from "../../src/wiring/job-runtime.ts";
import { waitFor } from "../notify/support.ts";
import {
  closeAll,
  postgresAvailable,
  TEST_JOB_SETTINGS,
  TEST_NOTIFY_SETTINGS,
} from "../support/database.ts";
import { RABBITMQ_URL, rabbitAvailable, testTopology } from "../support/rabbitmq.ts";
import {
  type ApiEnv,
  openApiEnv,
  openSse,
  submitJob,
  uploadImages,
  waitForJobApi,
} from "./api-support.ts";

const run = postgresAvailable && rabbitAvailable ? describe : describe.skip;

/**
 * The production shape with a broker: the API only accepts jobs and relays their outbox to
 * RabbitMQ; a worker (its own job runtime, as `npm run worker` builds it) consumes them and
 * finishes the job, notifications included. Events reach the API's stream through Postgres
 * NOTIFY from the worker's connections.
 */
run("jobs API over RabbitMQ, with a worker [postgres]", () => {
  let env: ApiEnv;
  let worker: JobRuntime;
  let server: ReturnType<typeof Bun.serve>;
  const queues = testTopology(3, 50);

  beforeAll(async () => {
    const jobs = { ...TEST_JOB_SETTINGS, amqpUrl: RABBITMQ_URL, queuePrefix: queues.prefix };
    env = await openApiEnv("postgres", { jobs });
    const { images, transforms, analysis, segmentations } = env.services;
    worker = createJobRuntime({
      db: env.db,
      logger: env.services.logger,
      role: "worker",
      settings: jobs,
      services: { images, transforms, analysis, segmentations },
      notify: {
        publicUrl: "https://pictor.test",
        settings: TEST_NOTIFY_SETTINGS,
        webhooks: { allowHttpHosts: [], allowPrivate: [] },
      },
    });
    await worker.start();
    server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => env.rawApp.fetch(req) });
  });
  afterAll(() =>
    closeAll(
      () => server?.stop(true),
      () => worker?.stop(),
      () => env?.close(),
      () => queues.dispose(),
    ),
  );

  test("a job submitted to the API runs on the worker; its stream and its email follow", async () => {
    const { user } = env;
    expect(env.services.background.jobs.transport).toBeNull();
    expect(worker.jobs.transport?.name).toBe("rabbitmq");
    const images = await uploadImages(user, 30, 3000);
    const { res, job } = await submitJob(user, {
      image_ids: images,
      task: { transform: { operations: [{ op: "resize", width: 24 }], format: "webp" } },
    });
    expect(res.status).toBe(202);
    const stream = await openSse(`${server.url.origin}/v1/jobs/${job.id}/events`, {
      Authorization: `Bearer ${user.token}`,
    });
    const events: { id: string; event: string; data: unknown }[] = [];
    for (let m = await stream.next(); m; m = await stream.next()) {
      if (m.kind === "event") events.push(m);
    }
    expect(events.at(-1)).toMatchObject({ event: "done", data: { status: "succeeded", done: 30 } });
    expect(events.filter((e) => e.event === "item")).toHaveLength(30);
    const ids = events.map((e) => BigInt(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => (a < b ? -1 : 1)));
    const done = await waitForJobApi(user, job.id);
    expect(done.progress).toEqual({ total: 30, done: 30, failed: 0, canceled: 0, percent: 100 });
    // The worker's transaction created the email; a dispatcher (either) wrote it to the outbox.
    const outbox = await waitFor("the outbox entry", async () => {
      const page = (await (await user.app.request("/v1/me/outbox")).json()) as {
        items: { subject: string }[];
      };
      return page.items.length > 0 ? page.items : null;
    });
    expect(outbox.map((m) => m.subject)).toEqual([
      "[Pictor] Transform job succeeded: 30 of 30 items succeeded",
    ]);
    const [row] = await env.db.sql<{ count: number }[]>`
      SELECT count(*)::int AS count FROM notifications WHERE job_id = ${job.id}`;
    expect(row?.count).toBe(1);
  });
});
