import type postgres from "postgres";
import { uuidv7 } from "../../core/lib/uuid.ts";
import { kindOf, type TaskSpec } from "../../core/pipeline/task-spec.ts";
import type { Sql, Transaction } from "../../platform/database.ts";
import type {
  ClaimedItem,
  ItemOutput,
  ItemRef,
  JobItemRecord,
  JobNotify,
  JobProgress,
  JobRecord,
  JobStatus,
} from "./types.ts";

/** The outbox topic of "run this item" messages. */
export const ITEM_TOPIC = "job.item";
/** NOTIFY channels: a job's events (SSE), and "items are due" (in-process workers). */
export const EVENTS_CHANNEL = "job_events";
export const ITEMS_CHANNEL = "job_items";

type JobRow = {
  id: string;
  owner_id: string | null;
  kind: JobRecord["kind"];
  params: TaskSpec;
  notify: JobNotify | null;
  status: JobStatus;
  total: number;
  done: number;
  failed: number;
  canceled: number;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  cancel_requested_at: Date | null;
  error: string | null;
};

type ItemRow = Omit<JobItemRecord, "started_at" | "finished_at" | "next_attempt_at"> & {
  started_at: Date | null;
  finished_at: Date | null;
  next_attempt_at: Date;
};

type StartedRow = {
  id: string;
  job_id: string;
  image_id: string;
  attempts: number;
  error: string | null;
  claimed_by: string;
  owner_id: string | null;
  owner_role: "user" | "admin" | null;
  params: unknown;
};

type Started = Omit<StartedRow, "owner_id" | "owner_role" | "params">;

const JOB_COLUMNS = `id, owner_id, kind, params, notify, status, total, done, failed, canceled, created_at,
  started_at, finished_at, cancel_requested_at, error`;
const ITEM_COLUMNS = `id, job_id, position, image_id, status, attempts, result_id, result_kind, error,
  started_at, finished_at, next_attempt_at`;
/** An item not finished: waiting for its first run or its next, or being run. */
const UNFINISHED = `('queued', 'retrying', 'running')`;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function progressOf(r: Pick<JobRow, "total" | "done" | "failed" | "canceled">): JobProgress {
  const finished = r.done + r.failed + r.canceled;
  return {
    total: r.total,
    done: r.done,
    failed: r.failed,
    canceled: r.canceled,
    percent: Math.floor((finished * 100) / r.total),
  };
}

const toJob = (r: JobRow): JobRecord => ({
  id: r.id,
  owner_id: r.owner_id,
  kind: r.kind,
  params: r.params,
  notify: r.notify,
  status: r.status,
  progress: progressOf(r),
  created_at: r.created_at.toISOString(),
  started_at: iso(r.started_at),
  finished_at: iso(r.finished_at),
  cancel_requested_at: iso(r.cancel_requested_at),
  error: r.error,
});

const toItem = (r: ItemRow): JobItemRecord => ({
  ...r,
  started_at: iso(r.started_at),
  finished_at: iso(r.finished_at),
  // Only a retrying item's is news: a queued one is due now, a finished one never again.
  next_attempt_at: r.status === "retrying" ? r.next_attempt_at.toISOString() : null,
});

const toClaimed = (r: StartedRow): ClaimedItem => ({
  id: r.id,
  job_id: r.job_id,
  image_id: r.image_id,
  owner_id: r.owner_id,
  owner_role: r.owner_role,
  params: r.params,
  attempt: r.attempts,
  claimed_by: r.claimed_by,
  last_error: r.error,
});

/** The final status of a job whose items are all finished. */
function finalStatus(r: Pick<JobRow, "done" | "failed" | "canceled">): {
  status: JobStatus;
  error: string | null;
} {
  const total = r.done + r.failed + r.canceled;
  if (r.canceled > 0) return { status: "canceled", error: null };
  if (r.failed === 0) return { status: "succeeded", error: null };
  if (r.done === 0) return { status: "failed", error: `All ${total} items failed` };
  return { status: "partially_failed", error: `${r.failed} of ${total} items failed` };
}

export type JobStore = ReturnType<typeof createJobStore>;

export type CreateJobInput = {
  owner_id: string | null;
  task: TaskSpec;
  /** Checked where the request came in (JobImageIdsSchema): the store trusts them. */
  image_ids: readonly string[];
  /** The job's own email choice; unset: the owner's preference. */
  notify?: JobNotify | null | undefined;
};

/** What else happens when a job finishes. */
export type JobFinishHooks = {
  /**
   * Runs inside the transaction that records the job's final state (its notifications are
   * created there: the job ends and they exist together, or neither).
   */
  inTransaction(tx: Transaction, job: JobRecord): Promise<void>;
  /** Runs after that transaction committed (wakes whoever delivers them). */
  afterCommit(job: JobRecord): void;
};

/**
 * Jobs and their items in Postgres: every state change is one transaction that also updates the
 * job's counters, appends the job's events (and NOTIFYs them), and finishes the job exactly once
 * when its last item finishes.
 */
export function createJobStore(deps: {
  sql: Sql;
  /** How long an in-process claim holds an item before another worker may take it. */
  leaseMs: number;
  onFinish?: JobFinishHooks | undefined;
}) {
  const { sql, leaseMs, onFinish } = deps;
  const json = (tx: Transaction | Sql, v: unknown) => tx.json(v as postgres.JSONValue);

  async function event(tx: Transaction, jobId: string, type: string, data: unknown) {
    await tx`INSERT INTO job_events (job_id, type, data) VALUES (${jobId}, ${type}, ${json(tx, data)})`;
    // Delivered on commit, so a listener never sees an event that was rolled back.
    await tx`SELECT pg_notify(${EVENTS_CHANNEL}, ${jobId})`;
  }

  /**
   * Adds finished items to the job's counters (announcing `item`, if given) and, when none is
   * left, finishes the job. The UPDATE locks the job row before any event is written: a job's
   * events are then numbered in commit order, so a stream that has seen event n never finds a
   * smaller id committed later.
   */
  async function count(
    tx: Transaction,
    jobId: string,
    delta: { done?: number; failed?: number; canceled?: number },
    item?: ItemRow,
  ): Promise<JobRecord | null> {
    const [row] = await tx<JobRow[]>`
      UPDATE jobs SET done = done + ${delta.done ?? 0}, failed = failed + ${delta.failed ?? 0},
        canceled = canceled + ${delta.canceled ?? 0}
      WHERE id = ${jobId}
      RETURNING ${tx.unsafe(JOB_COLUMNS)}`;
    if (!row) return null;
    if (item) await itemEvent(tx, item);
    await event(tx, jobId, "progress", { status: row.status, ...progressOf(row) });
    if (row.done + row.failed + row.canceled < row.total) return null;
    const { status, error } = finalStatus(row);
    // The job row is locked by the UPDATE above, and finished_at guards a second finish.
    const [finished] = await tx<JobRow[]>`
      UPDATE jobs SET status = ${status}, error = ${error}, finished_at = now(),
        started_at = coalesce(started_at, now())
      WHERE id = ${jobId} AND finished_at IS NULL
      RETURNING ${tx.unsafe(JOB_COLUMNS)}`;
    if (!finished) return null;
    const job = toJob(finished);
    await onFinish?.inTransaction(tx, job);
    // Last, so that a stream which saw `done` finds the job's notifications already there.
    await event(tx, jobId, "done", { status, error, ...progressOf(finished) });
    return job;
  }

  /** Runs `body` in a transaction, then the finish hook of the job it finished, if any. */
  async function finishing<T>(
    body: (tx: Transaction, finished: (job: JobRecord | null) => void) => Promise<T>,
  ): Promise<T> {
    const outcome: { finished: JobRecord | null } = { finished: null };
    const result = await sql.begin((tx) =>
      body(tx, (job) => {
        outcome.finished = job ?? outcome.finished;
      }),
    );
    if (outcome.finished) onFinish?.afterCommit(outcome.finished);
    return result as T;
  }

  async function itemEvent(tx: Transaction, r: ItemRow) {
    const item = toItem(r);
    await event(tx, r.job_id, "item", {
      item_id: item.id,
      position: item.position,
      image_id: item.image_id,
      status: item.status,
      attempts: item.attempts,
      next_attempt_at: item.next_attempt_at,
      result_id: item.result_id,
      result_kind: item.result_kind,
      error: item.error,
    });
  }

  /** Marks the jobs of just-started items running (and says so to their streams). */
  async function startJobs(tx: Transaction, jobIds: string[]) {
    const started = await tx<JobRow[]>`
      UPDATE jobs SET status = 'running', started_at = now()
      WHERE id IN ${tx(jobIds)} AND status = 'queued'
      RETURNING ${tx.unsafe(JOB_COLUMNS)}`;
    for (const job of started) {
      await event(tx, job.id, "progress", { status: job.status, ...progressOf(job) });
    }
  }

  /** Joins started item rows with their job's owner and task. */
  async function withJobs(tx: Transaction, rows: Started[]) {
    if (rows.length === 0) return [];
    const jobIds = [...new Set(rows.map((r) => r.job_id))];
    await startJobs(tx, jobIds);
    // The owner's role as it is now: a demoted admin's queued items run with a user's rights.
    const jobs = await tx<Pick<StartedRow, "job_id" | "owner_id" | "owner_role" | "params">[]>`
      SELECT j.id AS job_id, j.owner_id, u.role AS owner_role, j.params
      FROM jobs j LEFT JOIN users u ON u.id = j.owner_id
      WHERE j.id IN ${tx(jobIds)}`;
    const byId = new Map(jobs.map((j) => [j.job_id, j]));
    return rows.map((r) => {
      const job = byId.get(r.job_id);
      return toClaimed({
        ...r,
        owner_id: job?.owner_id ?? null,
        owner_role: job?.owner_role ?? null,
        params: job?.params ?? null,
      });
    });
  }

  const lease = () => sql`now() + ${leaseMs} * interval '1 millisecond'`;

  return {
    /**
     * Creates a job, one item per image (in the order given), and, when `outbox` is set, one
     * "run this item" message per item: all in one transaction, so a job is either accepted whole
     * with every message it needs, or not at all.
     */
    async create(input: CreateJobInput, options: { outbox: boolean }): Promise<JobRecord> {
      const ids = input.image_ids;
      const jobId = uuidv7();
      const items = ids.map((image_id, position) => ({
        id: uuidv7(),
        job_id: jobId,
        position,
        image_id,
      }));
      return sql.begin(async (tx) => {
        const [job] = await tx<JobRow[]>`
          INSERT INTO jobs (id, owner_id, kind, params, notify, total)
          VALUES (${jobId}, ${input.owner_id}, ${kindOf(input.task)}, ${json(tx, input.task)},
                  ${input.notify ?? null}, ${ids.length})
          RETURNING ${tx.unsafe(JOB_COLUMNS)}`;
        // Bounded batches: one statement may carry at most 65 534 parameters.
        for (let at = 0; at < items.length; at += 5000) {
          await tx`INSERT INTO job_items ${tx(items.slice(at, at + 5000), "id", "job_id", "position", "image_id")}`;
        }
        if (options.outbox) {
          await tx`
            INSERT INTO outbox (topic, payload)
            SELECT ${ITEM_TOPIC}, jsonb_build_object('item_id', id, 'job_id', job_id, 'attempt', 1)
            FROM job_items WHERE job_id = ${jobId} ORDER BY position`;
        }
        await tx`SELECT pg_notify(${ITEMS_CHANNEL}, ${jobId})`;
        return toJob(job as JobRow);
      });
    },

    async get(id: string): Promise<JobRecord | null> {
      const [row] = await sql<
        JobRow[]
      >`SELECT ${sql.unsafe(JOB_COLUMNS)} FROM jobs WHERE id = ${id}`;
      return row ? toJob(row) : null;
    },

    /** The jobs of `ownerId`, newest first, from before `cursor` (a job id) on. */
    async list(options: {
      ownerId: string;
      status?: JobStatus | undefined;
      limit: number;
      cursor?: string | undefined;
    }): Promise<JobRecord[]> {
      const rows = await sql<JobRow[]>`
        SELECT ${sql.unsafe(JOB_COLUMNS)} FROM jobs
        WHERE owner_id = ${options.ownerId}
          ${options.status ? sql`AND status = ${options.status}` : sql``}
          ${options.cursor ? sql`AND id < ${options.cursor}` : sql``}
        ORDER BY id DESC LIMIT ${options.limit}`;
      return rows.map(toJob);
    },

    /** A job's items in position order, from `after` (a position) on. */
    async items(
      jobId: string,
      options: { limit: number; after?: number | undefined },
    ): Promise<JobItemRecord[]> {
      const rows = await sql<ItemRow[]>`
        SELECT ${sql.unsafe(ITEM_COLUMNS)} FROM job_items
        WHERE job_id = ${jobId} AND position > ${options.after ?? -1}
        ORDER BY position LIMIT ${options.limit}`;
      return rows.map(toItem);
    },

    /** A job's events after event id `after`, oldest first (what an SSE stream replays). */
    async events(
      jobId: string,
      after = "0",
      limit = 1000,
    ): Promise<{ id: string; type: "progress" | "item" | "done"; data: unknown }[]> {
      return sql<{ id: string; type: "progress" | "item" | "done"; data: unknown }[]>`
        SELECT id::text, type, data FROM job_events
        WHERE job_id = ${jobId} AND id > ${after}
        ORDER BY job_events.id LIMIT ${limit}`;
    },

    /**
     * Claims up to `limit` due items for `workerId` under a lease (in-process transport):
     * queued ones, and running ones whose lease ran out because their worker died.
     */
    async claim(workerId: string, limit: number): Promise<ClaimedItem[]> {
      return sql.begin(async (tx) => {
        const rows = await tx<Started[]>`
          WITH picked AS (
            SELECT id FROM job_items
            WHERE status IN ${tx.unsafe(UNFINISHED)} AND next_attempt_at <= now()
              AND (status <> 'running' OR locked_until IS NULL OR locked_until < now())
            ORDER BY next_attempt_at, job_id, position
            LIMIT ${limit}
            FOR UPDATE SKIP LOCKED
          )
          UPDATE job_items i SET status = 'running', attempts = i.attempts + 1,
            claimed_by = ${workerId}, locked_until = ${lease()},
            started_at = coalesce(i.started_at, now())
          FROM picked WHERE i.id = picked.id
          RETURNING i.id, i.job_id, i.image_id, i.attempts, i.error, i.claimed_by`;
        return withJobs(tx, rows);
      });
    },

    /**
     * Starts the item a message names (RabbitMQ transport). The message is the lock there: a
     * redelivery after its worker died takes the item over whatever its lease says. Null when the
     * item is finished or canceled (or does not exist).
     */
    async begin(ref: ItemRef, workerId: string): Promise<ClaimedItem | null> {
      return sql.begin(async (tx) => {
        const rows = await tx<Started[]>`
          UPDATE job_items SET status = 'running', attempts = attempts + 1,
            claimed_by = ${workerId}, locked_until = ${lease()},
            started_at = coalesce(started_at, now())
          WHERE id = ${ref.item_id} AND job_id = ${ref.job_id} AND status IN ${tx.unsafe(UNFINISHED)}
          RETURNING id, job_id, image_id, attempts, error, claimed_by`;
        const [claimed] = await withJobs(tx, rows);
        return claimed ?? null;
      });
    },

    /** Extends the lease of an item still held by the same worker. */
    async renew(item: ClaimedItem): Promise<void> {
      await sql`
        UPDATE job_items SET locked_until = ${lease()}
        WHERE id = ${item.id} AND status = 'running' AND claimed_by = ${item.claimed_by}`;
    },

    /**
     * Stores the item's result and marks it succeeded, in one transaction, unless it is already
     * finished (another delivery won, or it was canceled): then nothing is written and the
     * result is null.
     */
    async complete(item: ClaimedItem, output: ItemOutput): Promise<string | null> {
      return finishing(async (tx, finished) => {
        // The row lock makes a concurrent delivery of the same item wait here, then see it done.
        const [current] = await tx<{ status: string }[]>`
          SELECT status FROM job_items WHERE id = ${item.id} AND status IN ${tx.unsafe(UNFINISHED)}
          FOR UPDATE`;
        if (!current) return null;
        const resultId = await output.store(tx);
        const [row] = await tx<ItemRow[]>`
          UPDATE job_items SET status = 'succeeded', result_id = ${resultId},
            result_kind = ${output.result_kind}, error = NULL, finished_at = now(),
            locked_until = NULL
          WHERE id = ${item.id} AND status <> 'succeeded'
          RETURNING ${tx.unsafe(ITEM_COLUMNS)}`;
        if (!row) return null;
        finished(await count(tx, row.job_id, { done: 1 }, row));
        return resultId;
      });
    },

    /**
     * Records a failed attempt: with `retryInMs`, the item is `retrying` until then; without, it
     * fails for good. False when the item was no longer running (canceled, or finished elsewhere).
     */
    async fail(item: ClaimedItem, error: string, retryInMs: number | null): Promise<boolean> {
      return finishing(async (tx, finished) => {
        const [row] =
          retryInMs === null
            ? await tx<ItemRow[]>`
                UPDATE job_items SET status = 'failed', error = ${error}, finished_at = now(),
                  locked_until = NULL
                WHERE id = ${item.id} AND status IN ${tx.unsafe(UNFINISHED)}
                RETURNING ${tx.unsafe(ITEM_COLUMNS)}`
            : await tx<ItemRow[]>`
                UPDATE job_items SET status = 'retrying', error = ${error}, locked_until = NULL,
                  claimed_by = NULL,
                  next_attempt_at = now() + ${retryInMs} * interval '1 millisecond'
                WHERE id = ${item.id} AND status = 'running'
                RETURNING ${tx.unsafe(ITEM_COLUMNS)}`;
        if (!row) return false;
        if (retryInMs === null) {
          finished(await count(tx, row.job_id, { failed: 1 }, row));
        } else {
          // The job row lock first, as count() takes it: events stay in commit order.
          await tx`SELECT 1 FROM jobs WHERE id = ${row.job_id} FOR NO KEY UPDATE`;
          await itemEvent(tx, row);
        }
        return true;
      });
    },

    /**
     * Cancels a job: its queued and retrying items are canceled at once; running ones finish
     * (their result is kept) and the job ends `canceled` when the last of them does. Null for an
     * unknown job; a finished job is returned unchanged.
     */
    async cancel(jobId: string): Promise<JobRecord | null> {
      return finishing(async (tx, finished) => {
        // Items before the job row: the order every other transaction locks them in.
        const canceled = await tx<{ id: string }[]>`
          UPDATE job_items SET status = 'canceled', finished_at = now(), locked_until = NULL
          WHERE job_id = ${jobId} AND status IN ('queued', 'retrying')
          RETURNING id`;
        const [job] = await tx<JobRow[]>`
          UPDATE jobs SET cancel_requested_at = coalesce(cancel_requested_at, now())
          WHERE id = ${jobId} AND finished_at IS NULL
          RETURNING ${tx.unsafe(JOB_COLUMNS)}`;
        if (job) finished(await count(tx, jobId, { canceled: canceled.length }));
        const [row] = await tx<JobRow[]>`
          SELECT ${tx.unsafe(JOB_COLUMNS)} FROM jobs WHERE id = ${jobId}`;
        return row ? toJob(row) : null;
      });
    },
  };
}
