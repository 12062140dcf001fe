import type { Logger } from "./logger.ts";

/**
 * Work a request starts but need not wait for, such as a render's cache write: it finishes after
 * the response, a failure is logged rather than thrown, and the host waits for it before closing
 * what it uses. A host without one (the edge, whose database client ends with the request; the
 * tests) does the work before answering.
 */
export type DeferredWork = {
  /** Starts `work` (after the host's start delay); a failure is logged as `what`. */
  defer(what: string, work: () => Promise<unknown>): void;
  /** Settles once everything deferred so far has. */
  drain(): Promise<void>;
};

/**
 * `startAfterMs`: how long deferred work waits before it starts, so that the requests arriving
 * right behind the response (a page's next <img>, a client's next call) reach the database
 * before it. Measured over HTTP on the embedded database: a render's cache write started at once
 * held the next render's credential lookup for 8–15 ms; started 15 ms later, 3 ms, and the write
 * ran while that render was being computed.
 *
 * @example
 * const deferred = createDeferredWork(logger, { startAfterMs: 15 });
 * deferred.defer("render cache write", () => cache.store(…));
 * await deferred.drain(); // at shutdown, before the database closes
 */
export function createDeferredWork(
  logger: Logger,
  { startAfterMs = 0 }: { startAfterMs?: number } = {},
): DeferredWork {
  const pending = new Set<Promise<void>>();
  const delay = () => new Promise<void>((resolve) => setTimeout(resolve, startAfterMs));
  return {
    defer(what, work) {
      const running: Promise<void> = delay()
        .then(work)
        .then(
          () => {},
          (err: unknown) =>
            logger.warn(`${what} failed`, {
              error: err instanceof Error ? err.message : String(err),
            }),
        )
        .finally(() => pending.delete(running));
      pending.add(running);
    },
    async drain() {
      while (pending.size > 0) await Promise.all(pending);
    },
  };
}
