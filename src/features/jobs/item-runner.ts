import { ApiError, type ProblemCode } from "../../platform/api-error.ts";
import type { Logger } from "../../platform/logger.ts";
import type { JobStore } from "./job-store.ts";
import { type RetryPolicy, retryDelay } from "./retry-policy.ts";
import type { ClaimedItem, ItemExecutor, ItemOutcome, ItemRunner } from "./types.ts";

/** The words an item's error keeps: an ApiError's detail, or the error's message. */
function describeError(err: unknown): string {
  if (err instanceof ApiError) return err.detail;
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/**
 * Refusals the same item would get on every attempt: a parameter the image cannot satisfy (a
 * crop outside it), its source gone, its owner's quota full. Retrying them only delays the
 * answer. Anything else (a worker that died or timed out, a full queue, the database or the
 * broker away, a codec failure that a crashed worker also reports) is tried again.
 */
const PERMANENT: ReadonlySet<ProblemCode> = new Set([
  "validation_failed",
  "not_found",
  "payload_too_large",
  "forbidden",
]);

/**
 * Executes started items and records what happened; both transports drive it. An item that
 * fails permanently fails at once; otherwise it runs at most `maxAttempts` times, counting executions its worker never finished (a crash), so an image
 * that kills its worker cannot make the job loop forever.
 */
export function createItemRunner(deps: {
  store: JobStore;
  executor: ItemExecutor;
  retry: RetryPolicy;
  logger: Logger;
}): ItemRunner {
  const { store, executor, retry, logger } = deps;

  async function failAttempt(item: ClaimedItem, err: unknown): Promise<ItemOutcome> {
    const error = describeError(err);
    const permanent = err instanceof ApiError && PERMANENT.has(err.code);
    const again = !permanent && item.attempt < retry.maxAttempts;
    const delayMs = again ? retryDelay(item.attempt, retry.baseMs) : 0;
    const recorded = await store.fail(item, error, again ? delayMs : null);
    logger.warn("job item attempt failed", {
      job_id: item.job_id,
      item_id: item.id,
      attempt: item.attempt,
      error,
      retry: again && recorded,
    });
    if (!recorded) return { kind: "skipped", reason: "no longer running" };
    return again
      ? { kind: "retry", attempt: item.attempt + 1, delayMs, error }
      : { kind: "failed", error };
  }

  return {
    begin: (ref, workerId) => store.begin(ref, workerId),
    claim: (workerId, limit) => store.claim(workerId, limit),
    renew: (item) => store.renew(item),

    async run(item) {
      if (item.attempt > retry.maxAttempts) {
        // Only reached when earlier executions never reported back: their worker died.
        const error = `Gave up after ${retry.maxAttempts} attempts${
          item.last_error ? `: ${item.last_error}` : " (the worker processing it stopped)"
        }`;
        await store.fail(item, error, null);
        return { kind: "failed", error };
      }
      let output: Awaited<ReturnType<ItemExecutor>>;
      try {
        output = await executor(item);
      } catch (err) {
        return failAttempt(item, err);
      }
      try {
        const resultId = await store.complete(item, output);
        if (resultId === null) return { kind: "skipped", reason: "already finished" };
        logger.debug("job item succeeded", { job_id: item.job_id, item_id: item.id });
        return { kind: "succeeded", result_id: resultId };
      } catch (err) {
        // Storing failed (the source was deleted meanwhile, the database went away…).
        return failAttempt(item, err);
      }
    },
  };
}
