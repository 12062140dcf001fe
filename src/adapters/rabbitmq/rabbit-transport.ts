import type { Channel, ConfirmChannel, ConsumeMessage } from "amqplib";
import type { MessageSigner } from "../../features/jobs/message-signing.ts";
import type { ItemOutcome, ItemRunner, JobTransport } from "../../features/jobs/types.ts";
import type { Logger } from "../../platform/logger.ts";
import {
  assertTopology,
  backoff,
  openConnection,
  publishConfirmed,
  redactUrl,
  type Topology,
} from "./amqp.ts";

export type RabbitTransportOptions = {
  url: string;
  topology: Topology;
  /** Unacknowledged messages per worker: the channel's prefetch (JOB_CONCURRENCY). */
  concurrency: number;
  signer: MessageSigner;
  logger: Logger;
  /** Reconnection backoff bounds. */
  reconnect?: { initialMs: number; maxMs: number };
  workerId?: string;
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Consumes item messages from RabbitMQ: prefetch = concurrency, manual acknowledgement only after
 * the item's outcome is committed to Postgres. A failed attempt is re-published, signed anew, to
 * the delay queue of its backoff step (confirmed before the original is acknowledged); the last
 * failed attempt, and any message that fails verification, is rejected into the dead-letter
 * queue. A lost connection is re-established with backoff; what was unacknowledged on it is
 * redelivered by the broker, and the item store makes the redelivery harmless.
 *
 * @example
 * const transport = createRabbitTransport({ url, topology: jobTopology("pictor", 3, 1000), concurrency: 2, signer, logger });
 * await transport.start(runner); // resolves once consuming
 */
export function createRabbitTransport(options: RabbitTransportOptions): JobTransport {
  const { url, topology, concurrency, signer, logger } = options;
  const workerId = options.workerId ?? `amqp-${crypto.randomUUID().slice(0, 8)}`;
  const delays = backoff(options.reconnect?.initialMs ?? 500, options.reconnect?.maxMs ?? 30_000);
  let running = false;
  const inFlight = new Set<Promise<void>>();
  let current: {
    close(): Promise<void>;
    consumer: Channel;
    publisher: ConfirmChannel;
    tag: string;
  } | null = null;
  let supervisor: Promise<void> | null = null;
  let lostSignal: (() => void) | null = null;
  let resolveStarted: () => void = () => {};
  // Aborted by stop(), so that a reconnection wait does not hold the process.
  let stopping = new AbortController();
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const signal = stopping.signal;
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done);
    });

  /** Settles a message on the channel it came from; a closed channel means the broker redelivers. */
  const settle = (ch: Channel, msg: ConsumeMessage, how: "ack" | "dead" | "requeue") => {
    try {
      if (how === "ack") ch.ack(msg);
      else ch.nack(msg, false, how === "requeue");
    } catch (err) {
      logger.warn("could not settle a message; the broker will redeliver it", {
        error: String(err),
      });
    }
  };

  async function handle(
    runner: ItemRunner,
    ch: Channel,
    publisher: ConfirmChannel,
    msg: ConsumeMessage,
  ) {
    if (!running) return settle(ch, msg, "requeue");
    const verdict = await signer.verify(msg.content);
    if (!verdict.ok) {
      logger.warn("rejected a job message", { reason: verdict.reason, queue: topology.work });
      return settle(ch, msg, "dead");
    }
    const ref = verdict.message;
    try {
      const item = await runner.begin(ref, workerId);
      if (!item) return settle(ch, msg, "ack");
      const outcome: ItemOutcome = await runner.run(item);
      if (outcome.kind === "retry") {
        const step = topology.retry[Math.min(item.attempt, topology.retry.length) - 1];
        const queue = step?.queue ?? topology.work;
        const body = await signer.sign({ ...ref, attempt: outcome.attempt });
        await publishConfirmed(publisher, queue, body);
      }
      settle(ch, msg, outcome.kind === "failed" ? "dead" : "ack");
    } catch (err) {
      // Postgres or the broker failed under us: nothing was recorded, so let it run again.
      logger.error("job message not processed; requeued", {
        item_id: ref.item_id,
        error: String(err),
      });
      await sleep(1000);
      settle(ch, msg, "requeue");
    }
  }

  async function connectAndConsume(runner: ItemRunner): Promise<{ lost: Promise<void> }> {
    let lost!: () => void;
    const connectionLost = new Promise<void>((resolve) => {
      lost = resolve;
    });
    const connection = await openConnection(url, (err) => {
      if (running) logger.warn("lost the broker connection", { error: String(err) });
      lost();
    });
    try {
      const consumer = await connection.conn.createChannel();
      const publisher = await connection.conn.createConfirmChannel();
      for (const ch of [consumer, publisher]) ch.on("error", () => {});
      await assertTopology(consumer, topology);
      await consumer.prefetch(concurrency);
      const { consumerTag } = await consumer.consume(
        topology.work,
        (msg) => {
          if (!msg) return lost(); // the queue was deleted: the broker canceled us
          const work = handle(runner, consumer, publisher, msg).finally(() => {
            inFlight.delete(work);
          });
          inFlight.add(work);
        },
        { noAck: false },
      );
      current = { close: connection.close, consumer, publisher, tag: consumerTag };
      lostSignal = lost;
      return { lost: connectionLost };
    } catch (err) {
      await connection.close();
      throw err;
    }
  }

  return {
    name: "rabbitmq",
    // Messages arrive by themselves; nothing to wake.
    wake: () => {},
    inFlight: () => inFlight.size,

    start(runner) {
      if (running) return Promise.resolve();
      running = true;
      stopping = new AbortController();
      return new Promise<void>((resolve) => {
        resolveStarted = resolve;
        supervisor = (async () => {
          while (running) {
            let lost: Promise<void>;
            try {
              ({ lost } = await connectAndConsume(runner));
            } catch (err) {
              const wait = delays.next();
              logger.warn("broker unreachable; retrying", {
                url: redactUrl(url),
                error: String(err),
                retry_in_ms: wait,
              });
              await pause(wait);
              continue;
            }
            if (!running) {
              // stop() came while this connection was being made, and found nothing to cancel.
              await current?.close();
              current = null;
              break;
            }
            delays.reset();
            logger.info("job transport started", {
              transport: "rabbitmq",
              queue: topology.work,
              concurrency,
              workerId,
            });
            resolveStarted();
            await lost;
            const gone = current;
            current = null;
            // Whatever was in hand on the lost connection is redelivered elsewhere.
            await Promise.allSettled([...inFlight]);
            await gone?.close();
            if (running) await pause(delays.next());
          }
        })();
      });
    },

    async stop() {
      if (!running) return;
      running = false;
      const live = current;
      if (live) {
        // No new deliveries; those in hand finish and are acknowledged before the channel closes.
        await live.consumer.cancel(live.tag).catch(() => {});
        await Promise.allSettled([...inFlight]);
      }
      stopping.abort();
      lostSignal?.();
      await supervisor;
      resolveStarted();
    },
  };
}
