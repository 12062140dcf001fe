import type { Logger } from "./logger.ts";

/**
 * Work a request starts but need not wait for, such as a render's cache write: it finishes after
 * the response, a failure is logged rather than thrown, and the host waits for it before closing
 * what it uses. A host without one (the edge, whose database client ends with the request; the
 * tests) does the work before answering.
 */
export type DeferredWork = {
  /** Starts `work` now; a failure is logged as `what`. */
  defer(what: string, work: () => Promise<unknown>): void;
  /** Settles once everything deferred so far has. */
  drain(): Promise<void>;
};

/**
 * @example
 * const deferred = createDeferredWork(logger);
 * deferred.defer("render cache write", () => cache.store(…));
 * await deferred.drain(); // at shutdown, before the database closes
 */
export function createDeferredWork(logger: Logger): DeferredWork {
  const pending = new Set<Promise<void>>();
  return {
    defer(what, work) {
      const running: Promise<void> = work()
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
