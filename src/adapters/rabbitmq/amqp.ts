import { type Channel, type ChannelModel, type ConfirmChannel, connect } from "amqplib";
import { retryDelay } from "../../features/jobs/retry-policy.ts";

/**
 * The RabbitMQ topology of jobs, every name under one prefix (AMQP_QUEUE_PREFIX):
 *
 * - `<prefix>.work`: durable; what workers consume. A message rejected there (forged, stale,
 *   or its item out of attempts) is dead-lettered to `<prefix>.dead`.
 * - `<prefix>.retry.<ms>`: one durable delay queue per backoff step. Every message in one of
 *   them waits the same time (the queue's TTL), so none is held up behind a longer one (the
 *   head-of-line blocking of per-message expiry), then is dead-lettered back to `.work`.
 *   Named by the delay, so changing JOB_RETRY_BASE_MS makes new queues instead of clashing.
 * - `<prefix>.dead`: durable; messages for a person to look at.
 */
export type Topology = {
  work: string;
  dead: string;
  /** Delay queues: the one after execution `n` failed is `retry[n - 1]`. */
  retry: { queue: string; delayMs: number }[];
};

/**
 * The queue names for a prefix and retry policy.
 *
 * @example
 * jobTopology("pictor", 3, 1000).retry; // [{queue: "pictor.retry.1000ms", delayMs: 1000}, {queue: "pictor.retry.2000ms", delayMs: 2000}]
 */
export function jobTopology(prefix: string, maxAttempts: number, retryBaseMs: number): Topology {
  const retry = Array.from({ length: Math.max(0, maxAttempts - 1) }, (_, i) => {
    const delayMs = retryDelay(i + 1, retryBaseMs);
    return { queue: `${prefix}.retry.${delayMs}ms`, delayMs };
  });
  return { work: `${prefix}.work`, dead: `${prefix}.dead`, retry };
}

/** Declares the queues (idempotent: every process does it on connecting). */
export async function assertTopology(ch: Channel, t: Topology): Promise<void> {
  await ch.assertQueue(t.dead, { durable: true });
  await ch.assertQueue(t.work, {
    durable: true,
    arguments: { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": t.dead },
  });
  for (const r of t.retry) {
    await ch.assertQueue(r.queue, {
      durable: true,
      arguments: {
        "x-message-ttl": r.delayMs,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": t.work,
      },
    });
  }
}

/** Deletes the queues of a topology (tests, and tearing a deployment down). */
export async function deleteTopology(url: string, t: Topology): Promise<void> {
  const conn = await connect(url);
  try {
    const ch = await conn.createChannel();
    for (const q of [t.work, t.dead, ...t.retry.map((r) => r.queue)]) await ch.deleteQueue(q);
    await ch.close();
  } finally {
    await conn.close();
  }
}

/** Publishes persistently and resolves once the broker confirmed (it wrote the message). */
export function publishConfirmed(ch: ConfirmChannel, queue: string, body: Uint8Array) {
  return new Promise<void>((resolve, reject) => {
    ch.sendToQueue(
      queue,
      Buffer.from(body),
      { persistent: true, contentType: "application/json" },
      (err: unknown) =>
        err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(),
    );
  });
}

/**
 * Connects, and reports an unexpected loss of the connection through `onLost` once. Errors
 * are caught (an unhandled 'error' event would kill the process); the caller reconnects.
 */
export async function openConnection(url: string, onLost: (err: unknown) => void) {
  // Nagle's algorithm would hold each small ack frame back until the previous one is answered,
  // adding tens of milliseconds between an ack and the next delivery.
  const conn: ChannelModel = await connect(url, { noDelay: true });
  let closing = false;
  let lost = false;
  const report = (err: unknown) => {
    if (closing || lost) return;
    lost = true;
    onLost(err);
  };
  conn.on("error", (err: Error) => report(err));
  conn.on("close", (err?: Error) => report(err ?? new Error("connection closed")));
  return {
    conn,
    async close() {
      closing = true;
      await conn.close().catch(() => {});
    },
  };
}

/** Exponential backoff with jitter, for reconnecting to the broker. */
export function backoff(initialMs: number, maxMs: number) {
  let next = initialMs;
  return {
    next(): number {
      const delay = next * (0.8 + Math.random() * 0.4);
      next = Math.min(maxMs, next * 2);
      return Math.round(delay);
    },
    reset() {
      next = initialMs;
    },
  };
}

/** Hides the password of a URL in logs. */
export const redactUrl = (url: string) => url.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@");
