import type { Listen } from "../../platform/database.ts";
import type { Logger } from "../../platform/logger.ts";
import { ITEMS_CHANNEL } from "./job-store.ts";
import type { ItemRunner, JobTransport } from "./types.ts";

export type InProcessOptions = {
  /** Items processed at once: one claim loop each (JOB_CONCURRENCY). */
  concurrency: number;
  /** How long a loop sleeps when nothing is due and no notification came (JOB_POLL_MS). */
  pollMs: number;
  /** The claim lease (JOB_LEASE_MS); renewed every third of it while an item runs. */
  leaseMs: number;
  logger: Logger;
  /**
   * The database's LISTEN, so that items queued by another process start at once. Without it,
   * jobs created in this process wake the loops directly and others wait for the poll.
   */
  listen?: Listen | undefined;
  /** Names this process's claims (claimed_by); a random one by default. */
  workerId?: string;
};

/**
 * The zero-setup transport: items are claimed straight from Postgres (FOR UPDATE SKIP LOCKED,
 * under a lease), by `concurrency` loops in this process. Any number of processes may run it on
 * the same database; a process that dies leaves leases that run out, and its items are claimed
 * again, so a restart resumes every unfinished item.
 *
 * @example
 * const transport = createInProcessTransport({ concurrency: 2, pollMs: 500, leaseMs: 60_000, logger });
 * await transport.start(runner);
 */
export function createInProcessTransport(options: InProcessOptions): JobTransport {
  const { concurrency, pollMs, leaseMs, logger } = options;
  const workerId = options.workerId ?? `inproc-${crypto.randomUUID().slice(0, 8)}`;
  let running = false;
  let inFlight = 0;
  let loops: Promise<void>[] = [];
  let unlisten: (() => Promise<void>) | null = null;
  // Loops with nothing to do sleep here until their poll interval passes or wake() is called.
  const sleepers = new Set<() => void>();
  const wake = () => {
    for (const done of [...sleepers]) done();
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      sleepers.add(done);
    });

  async function loop(runner: ItemRunner) {
    while (running) {
      let claimed: Awaited<ReturnType<ItemRunner["claim"]>>;
      try {
        claimed = await runner.claim(workerId, 1);
      } catch (err) {
        logger.error("claiming job items failed", { error: String(err) });
        await sleep(pollMs);
        continue;
      }
      const item = claimed[0];
      if (!item) {
        await sleep(pollMs);
        continue;
      }
      inFlight++;
      const renewal = setInterval(
        () => {
          runner.renew(item).catch((err: unknown) => {
            logger.warn("renewing a job item lease failed", { error: String(err) });
          });
        },
        Math.max(50, Math.floor(leaseMs / 3)),
      );
      try {
        await runner.run(item);
      } catch (err) {
        // The database is unreachable: the lease runs out and the item is claimed again.
        logger.error("job item could not be recorded", { item_id: item.id, error: String(err) });
        await sleep(pollMs);
      } finally {
        clearInterval(renewal);
        inFlight--;
      }
    }
  }

  return {
    name: "in-process",
    wake,
    inFlight: () => inFlight,

    async start(runner) {
      if (running) return;
      running = true;
      if (options.listen) {
        try {
          const sub = await options.listen(ITEMS_CHANNEL, () => wake());
          unlisten = sub.unlisten;
        } catch (err) {
          logger.warn("LISTEN unavailable, polling only", { error: String(err) });
        }
      }
      loops = Array.from({ length: concurrency }, () => loop(runner));
      logger.info("job transport started", { transport: "in-process", concurrency, workerId });
    },

    async stop() {
      if (!running) return;
      running = false;
      wake();
      await Promise.all(loops);
      loops = [];
      await unlisten?.().catch(() => {});
      unlisten = null;
    },
  };
}
