/*
 * How a failed job item is retried, whichever transport runs it: in process, the store's
 * `next_attempt_at` holds the item back; over RabbitMQ, the message waits in the delay queue of
 * its step (adapters/rabbitmq/amqp.ts names one per delay). The item runner decides.
 */

export type RetryPolicy = {
  /** Executions of one item before it fails for good (JOB_MAX_ATTEMPTS). */
  maxAttempts: number;
  /** Delay before the 2nd execution; each later one waits twice as long (JOB_RETRY_BASE_MS). */
  baseMs: number;
};

/**
 * The delay before execution `attempt + 1` after execution `attempt` failed: base·2^(attempt−1).
 *
 * @example
 * retryDelay(3, 1000); // 4000: 1 s after the 1st failure, 2 s after the 2nd, 4 s after the 3rd
 */
export function retryDelay(attempt: number, baseMs: number): number {
  return baseMs * 2 ** Math.max(0, attempt - 1);
}
