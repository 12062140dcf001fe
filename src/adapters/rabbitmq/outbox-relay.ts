import { once } from "node:events";
import type { ConfirmChannel } from "amqplib";
import { ITEM_TOPIC } from "../../features/jobs/job-store.ts";
import type { MessageSigner } from "../../features/jobs/message-signing.ts";
import type { ItemRef } from "../../features/jobs/types.ts";
import type { Sql } from "../../platform/database.ts";
import type { Logger } from "../../platform/logger.ts";
import { assertTopology, backoff, openConnection, redactUrl, type Topology } from "./amqp.ts";

export type OutboxRelayOptions = {
  sql: Sql;
  url: string;
  topology: Topology;
  signer: MessageSigner;
  logger: Logger;
  /** Messages per transaction and per wait for confirms. */
  batchSize?: number;
  /** Idle wait between looks at the outbox when not woken (JOB_POLL_MS). */
  pollMs: number;
  /** Reconnection backoff bounds. */
  reconnect?: { initialMs: number; maxMs: number };
  /** Longest wait for the broker's confirms of one batch. */
  confirmTimeoutMs?: number;
};

export interface OutboxRelay {
  start(): void;
  stop(): Promise<void>;
  /** Look at the outbox now (a job was just created in this process). */
  wake(): void;
  /** Messages this relay has published (and seen confirmed) so far. */
  published(): number;
}

type OutboxRow = { id: string; topic: string; payload: ItemRef };

/**
 * Publishes the transactional outbox: rows committed with their jobs are sent in id order, in
 * batches, persistent, on a confirm channel, and stamped published only once the broker
 * confirmed them. The rows of a batch stay locked (FOR UPDATE SKIP LOCKED) while they are sent,
 * so several API instances relay side by side without sending a row twice; a batch that fails
 * rolls back and is sent again, and workers make a duplicate harmless. While the broker is
 * unreachable jobs are still accepted: their rows wait, and the relay retries with backoff.
 *
 * A batch's transaction lasts one publish-and-confirm round trip (at most `confirmTimeoutMs`),
 * holding one pooled connection: that is why a relay runs only against a Postgres server, never
 * the embedded database, whose single connection it would take from every request (the server
 * refuses AMQP_URL without DATABASE_URL; workers could not reach an embedded database anyway).
 *
 * @example
 * const relay = createOutboxRelay({ sql, url, topology, signer, logger, pollMs: 500 });
 * relay.start();
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { sql, url, topology, signer, logger, pollMs } = options;
  const batchSize = options.batchSize ?? 200;
  const confirmTimeoutMs = options.confirmTimeoutMs ?? 10_000;
  const delays = backoff(options.reconnect?.initialMs ?? 500, options.reconnect?.maxMs ?? 30_000);
  const queues: Record<string, string> = { [ITEM_TOPIC]: topology.work };
  let running = false;
  let published = 0;
  let loop: Promise<void> | null = null;
  let wakeUp: () => void = () => {};
  let stopping = new AbortController();

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        stopping.signal.removeEventListener("abort", done);
        wakeUp = () => {};
        resolve();
      }
      wakeUp = done;
      stopping.signal.addEventListener("abort", done);
    });

  async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends one batch; resolves with how many rows it published. */
  async function relayBatch(ch: ConfirmChannel): Promise<number> {
    return sql.begin(async (tx) => {
      const rows = await tx<OutboxRow[]>`
        SELECT id::text, topic, payload FROM outbox
        WHERE published_at IS NULL
        ORDER BY id LIMIT ${batchSize}
        FOR UPDATE SKIP LOCKED`;
      if (rows.length === 0) return 0;
      for (const row of rows) {
        const queue = queues[row.topic];
        if (!queue) {
          logger.error("outbox row with an unknown topic skipped", {
            id: row.id,
            topic: row.topic,
          });
          continue;
        }
        // Signed now, not when the job was created: a message that waited out a broker outage
        // is as fresh as one sent at once.
        const body = await signer.sign(row.payload);
        const ok = ch.sendToQueue(queue, Buffer.from(body), {
          persistent: true,
          contentType: "application/json",
          messageId: `outbox-${row.id}`,
        });
        if (!ok) await withTimeout(once(ch, "drain"), confirmTimeoutMs, "waiting for drain");
      }
      await withTimeout(ch.waitForConfirms(), confirmTimeoutMs, "the broker's confirms");
      const ids = rows.map((r) => r.id);
      await tx`UPDATE outbox SET published_at = now() WHERE id IN ${tx(ids)}`;
      published += rows.length;
      return rows.length;
    });
  }

  async function run() {
    let lastCleanup = 0;
    while (running) {
      let connection: Awaited<ReturnType<typeof openConnection>> | null = null;
      try {
        let lostError: unknown = null;
        connection = await openConnection(url, (err) => {
          lostError = err;
          wakeUp();
        });
        const ch = await connection.conn.createConfirmChannel();
        ch.on("error", () => {});
        await assertTopology(ch, topology);
        delays.reset();
        logger.info("outbox relay connected", { url: redactUrl(url), queue: topology.work });
        while (running) {
          if (lostError) throw lostError;
          const sent = await relayBatch(ch);
          if (Date.now() - lastCleanup > 600_000) {
            lastCleanup = Date.now();
            // Published rows are kept a day for inspection, then dropped.
            await sql`DELETE FROM outbox WHERE published_at < now() - interval '1 day'`;
          }
          if (sent < batchSize) await pause(pollMs);
        }
      } catch (err) {
        if (!running) break;
        const wait = delays.next();
        logger.warn("outbox relay: broker unreachable; retrying", {
          url: redactUrl(url),
          error: String(err),
          retry_in_ms: wait,
        });
        await connection?.close();
        connection = null;
        await pause(wait);
      } finally {
        await connection?.close();
      }
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      stopping = new AbortController();
      loop = run();
    },
    async stop() {
      if (!running) return;
      running = false;
      stopping.abort();
      await loop;
    },
    wake: () => wakeUp(),
    published: () => published,
  };
}
