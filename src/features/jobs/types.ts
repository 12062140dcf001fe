import type { JobKind, TaskSpec } from "../../core/pipeline/task-spec.ts";
import type { Transaction } from "../../platform/database.ts";

export const JOB_STATUSES = [
  "queued",
  "running",
  "succeeded",
  "partially_failed",
  "failed",
  "canceled",
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** `retrying`: an attempt failed and the item waits for its next (`next_attempt_at`). */
export const ITEM_STATUSES = [
  "queued",
  "retrying",
  "running",
  "succeeded",
  "failed",
  "canceled",
] as const;
export type ItemStatus = (typeof ITEM_STATUSES)[number];

/** What an item produced: a derived image, a segmentation, or the histogram of its image. */
export type ResultKind = "image" | "segmentation" | "histogram";

export type JobProgress = {
  total: number;
  /** Items that succeeded. */
  done: number;
  failed: number;
  canceled: number;
  /** Finished items (any outcome) over total, 0–100, rounded down. */
  percent: number;
};

/** A job's own email choice, over its owner's preference (null: the owner's). */
export type JobNotify = "always" | "failure" | "never";

export type JobRecord = {
  id: string;
  owner_id: string | null;
  kind: JobKind;
  params: TaskSpec;
  notify: JobNotify | null;
  status: JobStatus;
  progress: JobProgress;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  cancel_requested_at: string | null;
  error: string | null;
};

export type JobItemRecord = {
  id: string;
  job_id: string;
  position: number;
  image_id: string;
  status: ItemStatus;
  attempts: number;
  result_id: string | null;
  result_kind: ResultKind | null;
  /** The last attempt's error: kept while retrying, cleared on success. */
  error: string | null;
  started_at: string | null;
  finished_at: string | null;
  /** When a retrying item runs again; null in every other state. */
  next_attempt_at: string | null;
};

/** What the executor is given: ids and the job's task, never bytes or credentials. */
export type ExecutableItem = {
  id: string;
  job_id: string;
  image_id: string;
  owner_id: string | null;
  /** The owner's role now (null without owner): what they may read is checked again per item. */
  owner_role: "user" | "admin" | null;
  /** The job's task spec as stored; the executor validates it again. */
  params: unknown;
};

/** An item a worker has started: its execution number and who holds it. */
export type ClaimedItem = ExecutableItem & {
  /** 1 for the first execution; a retry or a redelivery after a crash counts one more. */
  attempt: number;
  claimed_by: string;
  /** The previous attempt's error, if any. */
  last_error: string | null;
};

/**
 * An item's computed result, not yet stored: `store` writes it inside the transaction that marks
 * the item succeeded (and only if no other delivery of the item got there first), so a
 * redelivered item never leaves a second result behind. It returns the result's id.
 */
export type ItemOutput = {
  result_kind: ResultKind;
  store(tx: Transaction): Promise<string>;
};

/**
 * Runs a job's task on one item. Throws to fail the attempt (the runner retries it, up to
 * JOB_MAX_ATTEMPTS). Everything heavy happens here, outside any transaction.
 */
export type ItemExecutor = (item: ExecutableItem) => Promise<ItemOutput>;

/** Where an item stands after a worker handled one delivery of it. */
export type ItemOutcome =
  | { kind: "succeeded"; result_id: string }
  /** Nothing to do: the item was already finished or canceled, or another delivery won. */
  | { kind: "skipped"; reason: string }
  /** The attempt failed; the item runs again as `attempt` after `delayMs`. */
  | { kind: "retry"; attempt: number; delayMs: number; error: string }
  | { kind: "failed"; error: string };

/** What a queue message names: the item, its job, and which execution it asks for. */
export type ItemRef = { item_id: string; job_id: string; attempt: number };

/** Starts and finishes items; both transports drive it. */
export interface ItemRunner {
  /** Marks the item running for `workerId`; null when it is no longer to be run. */
  begin(ref: ItemRef, workerId: string): Promise<ClaimedItem | null>;
  /** Claims up to `limit` due items (in-process transport), under a lease. */
  claim(workerId: string, limit: number): Promise<ClaimedItem[]>;
  /**
   * Executes a started item and records its outcome. A failed task is an outcome; it throws only
   * when the outcome cannot be recorded (the database is unreachable).
   */
  run(item: ClaimedItem): Promise<ItemOutcome>;
  /** Extends the lease of an item being processed. */
  renew(item: ClaimedItem): Promise<void>;
}

/**
 * How items reach workers. `start` begins consuming and handing items to the runner; `stop` stops
 * taking new ones and resolves once those in hand are finished and acknowledged.
 */
export interface JobTransport {
  readonly name: "in-process" | "rabbitmq";
  start(runner: ItemRunner): Promise<void>;
  stop(): Promise<void>;
  /** A hint that items may be due (a job was just created in this process). */
  wake(): void;
  /** Items being processed right now. */
  inFlight(): number;
}
