import { jobTopology } from "../adapters/rabbitmq/amqp.ts";
import { createOutboxRelay, type OutboxRelay } from "../adapters/rabbitmq/outbox-relay.ts";
import { createRabbitTransport } from "../adapters/rabbitmq/rabbit-transport.ts";
import type { JobSettings } from "../config/config.ts";
import { createInProcessTransport } from "../features/jobs/in-process-transport.ts";
import { createItemRunner } from "../features/jobs/item-runner.ts";
import {
  type CreateJobInput,
  createJobStore,
  type JobFinishHooks,
  type JobStore,
} from "../features/jobs/job-store.ts";
import { createMessageSigner, type MessageSigner } from "../features/jobs/message-signing.ts";
import type { ItemExecutor, ItemRunner, JobRecord, JobTransport } from "../features/jobs/types.ts";
import type { Database } from "../platform/database.ts";
import type { Logger } from "../platform/logger.ts";

export type JobSystem = {
  store: JobStore;
  runner: ItemRunner;
  /** What consumes items in this process, if anything does. */
  transport: JobTransport | null;
  /** What publishes the outbox from this process, if anything does. */
  relay: OutboxRelay | null;
  /** Accepts a job (committed with its messages) and wakes whoever runs it here. */
  submit(input: CreateJobInput): Promise<JobRecord>;
  start(): Promise<void>;
  /** Stops taking items, finishes those in hand, stops relaying. */
  stop(): Promise<void>;
};

/** A signer usable at once, whose key (Web Crypto imports it asynchronously) is awaited on use. */
function lazySigner(ready: Promise<MessageSigner>): MessageSigner {
  return {
    sign: async (ref, now) => (await ready).sign(ref, now),
    verify: async (body, now) => (await ready).verify(body, now),
  };
}

/**
 * Wires jobs for one process from the configuration:
 *
 * | role     | no AMQP_URL                     | AMQP_URL                         |
 * | -------- | ------------------------------- | -------------------------------- |
 * | `api`    | runs items in-process           | relays the outbox to RabbitMQ    |
 * | `worker` | claims items from Postgres too  | consumes items from RabbitMQ     |
 *
 * @example
 * const jobs = createJobSystem({ settings: config.jobs, db, executor, logger, role: "api" });
 * await jobs.start();
 */
export function createJobSystem(deps: {
  settings: JobSettings;
  db: Database;
  executor: ItemExecutor;
  logger: Logger;
  role: "api" | "worker";
  /** What else happens when a job finishes (its notifications). */
  onFinish?: JobFinishHooks;
}): JobSystem {
  const { settings, db, executor, logger, role } = deps;
  const store = createJobStore({ sql: db.sql, leaseMs: settings.leaseMs, onFinish: deps.onFinish });
  const runner = createItemRunner({
    store,
    executor,
    retry: { maxAttempts: settings.maxAttempts, baseMs: settings.retryBaseMs },
    logger,
  });
  const broker = settings.amqpUrl;
  const signer = lazySigner(createMessageSigner(settings.workerSecret, settings.messageMaxAgeMs));
  const topology = jobTopology(settings.queuePrefix, settings.maxAttempts, settings.retryBaseMs);

  let transport: JobTransport | null = null;
  if (!broker) {
    transport = createInProcessTransport({
      concurrency: settings.concurrency,
      pollMs: settings.pollMs,
      leaseMs: settings.leaseMs,
      logger,
      listen: db.listen,
    });
  } else if (role === "worker") {
    transport = createRabbitTransport({
      url: broker,
      topology,
      concurrency: settings.concurrency,
      signer,
      logger,
    });
  }
  const relay =
    broker && role === "api"
      ? createOutboxRelay({
          sql: db.sql,
          url: broker,
          topology,
          signer,
          logger,
          pollMs: settings.pollMs,
        })
      : null;
  // With a broker, a job's items travel as outbox messages, whichever process relays them.
  const usesOutbox = Boolean(broker);

  return {
    store,
    runner,
    transport,
    relay,
    async submit(input) {
      const job = await store.create(input, { outbox: usesOutbox });
      transport?.wake();
      relay?.wake();
      return job;
    },
    async start() {
      relay?.start();
      await transport?.start(runner);
    },
    async stop() {
      await transport?.stop();
      await relay?.stop();
    },
  };
}
