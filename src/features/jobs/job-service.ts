import type { Page } from "../../core/lib/paging.ts";
import type { ZipEntry } from "../../core/lib/zip.ts";
import type { TaskSpec } from "../../core/pipeline/task-spec.ts";
import { ApiError } from "../../platform/api-error.ts";
import type { Listen, Sql } from "../../platform/database.ts";
import { isAdmin, type Principal, visibleTo } from "../accounts/index.ts";
import type { NotificationRecord, NotificationService } from "../notifications/index.ts";
import type { JobImageIds } from "./image-ids.ts";
import type { JobResults } from "./job-results.ts";
import { type CreateJobInput, EVENTS_CHANNEL, type JobStore } from "./job-store.ts";
import type { JobItemRecord, JobNotify, JobRecord, JobStatus } from "./types.ts";

export type JobView = JobRecord & { notifications: NotificationRecord[] };

export type JobEvent = { id: string; type: "progress" | "item" | "done"; data: unknown };

/** What a job's event stream yields: its events in order, and a heartbeat while it waits. */
export type JobFeedMessage = JobEvent | { type: "heartbeat" };

export type JobFeed = AsyncIterable<JobFeedMessage> & {
  /** Ends the feed (the client went away): a pending wait ends at once. */
  close(): void;
};

export type JobService = ReturnType<typeof createJobService>;

const REPLAY_BATCH = 500;

/**
 * Jobs as their owners see them: submit over their own images, list, follow, cancel, download.
 * Another user's job is a 404 on every operation, exactly as one that does not exist; admins
 * see every job.
 */
export function createJobService(deps: {
  sql: Sql;
  store: JobStore;
  /** Accepts a job (with its messages) and wakes whoever runs it. */
  submit(input: CreateJobInput): Promise<JobRecord>;
  results: JobResults;
  notifications: NotificationService;
  listen: Listen;
  /** How long an event stream waits in silence before a heartbeat (and a look at the table). */
  heartbeatMs?: number;
}) {
  const { sql, store, results, notifications, listen } = deps;
  const heartbeatMs = deps.heartbeatMs ?? 15_000;
  const open = new Set<JobFeed>();

  async function visible(principal: Principal, id: string): Promise<JobRecord> {
    const job = await store.get(id);
    if (!job || (job.owner_id !== principal.userId && !isAdmin(principal))) {
      throw new ApiError("not_found", `No job with id ${id}`);
    }
    return job;
  }

  return {
    /**
     * Accepts a job over images the caller may read (their own; an admin's, any). An image id
     * that names nothing the caller may see is a 422 naming it, and nothing is created.
     */
    async create(
      principal: Principal,
      input: { image_ids: JobImageIds; task: TaskSpec; notify?: JobNotify | undefined },
    ): Promise<JobRecord> {
      const ids = input.image_ids;
      const visible = await sql<{ id: string }[]>`
        SELECT id FROM images WHERE id IN ${sql(ids)} AND ${visibleTo(sql, principal)}`;
      const found = new Set(visible.map((r) => r.id));
      const missing = ids.map((id, index) => ({ id, index })).filter(({ id }) => !found.has(id));
      if (missing.length > 0) {
        const first = missing[0] as (typeof missing)[number];
        throw new ApiError(
          "validation_failed",
          `No image with id ${first.id} (image_ids.${first.index})${
            missing.length > 1 ? ` and ${missing.length - 1} more` : ""
          }`,
          {
            errors: missing.slice(0, 100).map(({ id, index }) => ({
              path: `image_ids.${index}`,
              message: `No image with id ${id}`,
            })),
          },
        );
      }
      return deps.submit({
        owner_id: principal.userId,
        task: input.task,
        image_ids: ids,
        notify: input.notify ?? null,
      });
    },

    /** The caller's own jobs, newest first. */
    async list(
      principal: Principal,
      options: { status?: JobStatus | undefined; limit: number; cursor?: string | undefined },
    ): Promise<Page<JobRecord>> {
      const rows = await store.list({
        ...options,
        ownerId: principal.userId,
        limit: options.limit + 1,
      });
      const items = rows.slice(0, options.limit);
      return {
        items,
        next_cursor: rows.length > options.limit ? (items.at(-1)?.id ?? null) : null,
      };
    },

    /** The job with its progress and its notifications. */
    async get(principal: Principal, id: string): Promise<JobView> {
      const job = await visible(principal, id);
      return { ...job, notifications: await notifications.listForJob(id) };
    },

    /** The job's items in order; the cursor is the last position seen. */
    async items(
      principal: Principal,
      id: string,
      options: { limit: number; cursor?: number | undefined },
    ): Promise<Page<JobItemRecord>> {
      await visible(principal, id);
      const rows = await store.items(id, { limit: options.limit + 1, after: options.cursor });
      const items = rows.slice(0, options.limit);
      const last = items.at(-1);
      return {
        items,
        next_cursor: rows.length > options.limit && last ? String(last.position) : null,
      };
    },

    /**
     * Cancels the job: queued items never run, running ones finish (keeping their result) and
     * the job ends `canceled` when the last does. A finished job is answered unchanged.
     */
    async cancel(principal: Principal, id: string): Promise<JobRecord> {
      await visible(principal, id);
      const job = await store.cancel(id);
      if (!job) throw new ApiError("not_found", `No job with id ${id}`);
      return job;
    },

    /** The job's result files as ZIP entries (checked to fit a ZIP without ZIP64). */
    async archive(principal: Principal, id: string): Promise<AsyncIterable<ZipEntry>> {
      return results.archive(await visible(principal, id));
    },

    /**
     * The job's events after event `after` (0: all of them), then each new one as it is
     * committed, ending after `done`. The subscription comes first and the replay second, so
     * an event committed in between is announced to a subscriber already listening; the replay
     * reads by id, so nothing is sent twice. A lost notification (a reconnecting LISTEN
     * connection) costs at most one heartbeat interval: each heartbeat looks at the table too.
     */
    async events(principal: Principal, id: string, after = "0"): Promise<JobFeed> {
      const job = await visible(principal, id);
      let announced = false;
      let closed = false;
      let wakeUp: (() => void) | null = null;
      const wake = () => {
        wakeUp?.();
        wakeUp = null;
      };
      const subscription = await listen(EVENTS_CHANNEL, (payload) => {
        if (payload !== id) return;
        announced = true;
        wake();
      });
      /** Resolves true when an event was announced, false after `heartbeatMs` of silence. */
      const wait = () =>
        new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), heartbeatMs);
          wakeUp = () => {
            clearTimeout(timer);
            resolve(true);
          };
        });

      async function* feed(): AsyncGenerator<JobFeedMessage> {
        let last = after;
        let checkedFinished = false;
        try {
          while (!closed) {
            announced = false;
            const batch = await store.events(id, last, REPLAY_BATCH);
            for (const event of batch) {
              last = event.id;
              yield event;
              if (event.type === "done") return;
            }
            if (batch.length === REPLAY_BATCH || announced) continue;
            // Resumed after the `done` event: nothing will ever follow.
            if (!checkedFinished && job.finished_at) return;
            checkedFinished = true;
            if (closed) return;
            if (!(await wait()) && !closed) yield { type: "heartbeat" };
          }
        } finally {
          open.delete(handle);
          await subscription.unlisten();
        }
      }

      const iterator = feed();
      const handle: JobFeed = {
        [Symbol.asyncIterator]: () => iterator,
        close() {
          closed = true;
          open.delete(handle);
          wake();
        },
      };
      open.add(handle);
      return handle;
    },

    /**
     * Ends every open event stream (the server is shutting down): their clients reconnect,
     * with Last-Event-ID, to an instance still running.
     */
    closeStreams(): void {
      for (const feed of [...open]) feed.close();
    },

    /** Event streams open now (each holds a LISTEN subscription), for tests and metrics. */
    openStreams: (): number => open.size,
  };
}
