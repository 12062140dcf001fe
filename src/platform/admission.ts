import { ApiError } from "./api-error.ts";

/** Who asks for image work, and how many original bytes it will read once admitted. */
export type TaskTicket = { owner: string; bytes: number };

export type AdmissionSettings = {
  /** Tasks that run at once (reading their original included): the image workers. */
  concurrency: number;
  /** Tasks that may wait for their turn, all users together; beyond it 503 (IMAGE_QUEUE_LIMIT). */
  queueLimit: number;
  /** Tasks of one user that run at once; the rest of theirs wait (IMAGE_WORKERS_PER_USER). */
  perUser: number;
  /** Tasks of one user that may wait; beyond it 429 (IMAGE_QUEUE_PER_USER). */
  perUserQueue: number;
  /** Original bytes read or held by running tasks, all together (MAX_INFLIGHT_BYTES). */
  maxInflightBytes: number;
  /** Milliseconds of image work one user may use per window; 0 turns the budget off. */
  computeBudgetSeconds: number;
  windowSeconds: number;
  now?: () => number;
};

export type AdmissionStats = { waiting: number; running: number; inflightBytes: number };

/**
 * Decides when image work may start, before it reads anything: a waiting request holds no image
 * bytes, only a place in line, so fifty requests for one 16 MB original cost fifty places and
 * not 800 MB (issue 18). Turns come in arrival order, skipping users who already run their share.
 */
export interface ImageAdmission {
  /**
   * Runs `work` (which reads the original and hands it to a worker) once it is this ticket's
   * turn; refuses at once with 503 when the line is full, or 429 when the owner's share of it
   * or their compute budget is used up, each with Retry-After.
   */
  run<T>(ticket: TaskTicket, work: () => Promise<T>): Promise<T>;
  stats(): AdmissionStats;
  /** Refuses every waiting ticket (503) and any new one. */
  close(): void;
}

/** Runs everything at once: where each request has an isolate of its own (the edge), and tests. */
export const unlimitedAdmission: ImageAdmission = {
  run: (_ticket, work) => work(),
  stats: () => ({ waiting: 0, running: 0, inflightBytes: 0 }),
  close() {},
};

type Waiter = { ticket: TaskTicket; start: () => void; refuse: (err: ApiError) => void };

/**
 * The admission of one process's image work, in memory.
 *
 * @example
 * const admission = createImageAdmission({ concurrency: 2, queueLimit: 64, perUser: 1, perUserQueue: 16,
 *   maxInflightBytes: 256 * 2 ** 20, computeBudgetSeconds: 0, windowSeconds: 60 });
 * await admission.run({ owner: userId, bytes: record.byte_size }, async () => render(await read()));
 */
export function createImageAdmission(settings: AdmissionSettings): ImageAdmission {
  const now = settings.now ?? Date.now;
  const waiting: Waiter[] = [];
  const running = new Map<string, number>();
  const waitingOf = new Map<string, number>();
  const used = new Map<string, { ms: number; resetAt: number }>();
  let runningTotal = 0;
  let inflightBytes = 0;
  let closed = false;

  const bump = (counts: Map<string, number>, owner: string, by: number) => {
    const n = (counts.get(owner) ?? 0) + by;
    if (n === 0) counts.delete(owner);
    else counts.set(owner, n);
  };

  /** The owner's compute spent in the current window (a fresh window once the last one ended). */
  const spent = (owner: string) => {
    const at = now();
    let entry = used.get(owner);
    if (!entry || entry.resetAt <= at) {
      entry = { ms: 0, resetAt: at + settings.windowSeconds * 1000 };
      used.set(owner, entry);
    }
    return entry;
  };

  const sweepBudgets = () => {
    const at = now();
    for (const [owner, entry] of used) if (entry.resetAt <= at) used.delete(owner);
  };

  /** Starts waiting tickets in arrival order while workers and the byte budget allow. */
  const dispatch = () => {
    for (let i = 0; i < waiting.length && runningTotal < settings.concurrency; ) {
      const waiter = waiting[i] as Waiter;
      const { owner, bytes } = waiter.ticket;
      if ((running.get(owner) ?? 0) >= settings.perUser) {
        i++;
        continue;
      }
      // Past the byte budget the line stops rather than letting smaller originals overtake
      // forever; an original larger than the whole budget runs alone.
      if (inflightBytes > 0 && inflightBytes + bytes > settings.maxInflightBytes) return;
      waiting.splice(i, 1);
      bump(waitingOf, owner, -1);
      bump(running, owner, 1);
      runningTotal++;
      inflightBytes += bytes;
      waiter.start();
    }
  };

  const refusal = (code: "unavailable" | "too_many_requests", detail: string, retry: number) =>
    new ApiError(code, detail, { headers: { "Retry-After": String(retry) } });

  return {
    run<T>(ticket: TaskTicket, work: () => Promise<T>): Promise<T> {
      if (closed) return Promise.reject(refusal("unavailable", "Shutting down", 1));
      const { owner } = ticket;
      if (settings.computeBudgetSeconds > 0) {
        if (used.size > 1024) sweepBudgets();
        const budget = spent(owner);
        if (budget.ms >= settings.computeBudgetSeconds * 1000) {
          const seconds = Math.max(1, Math.ceil((budget.resetAt - now()) / 1000));
          return Promise.reject(
            refusal(
              "too_many_requests",
              `Your image work used its budget of ${settings.computeBudgetSeconds} s per ${settings.windowSeconds} s (COMPUTE_BUDGET_SECONDS); try again in ${seconds} s`,
              seconds,
            ),
          );
        }
      }
      const mustWait =
        runningTotal >= settings.concurrency ||
        (running.get(owner) ?? 0) >= settings.perUser ||
        waiting.length > 0;
      if (mustWait && (waitingOf.get(owner) ?? 0) >= settings.perUserQueue) {
        return Promise.reject(
          refusal(
            "too_many_requests",
            `You have ${settings.perUserQueue} image tasks waiting already (IMAGE_QUEUE_PER_USER); try again shortly`,
            1,
          ),
        );
      }
      if (mustWait && waiting.length >= settings.queueLimit) {
        return Promise.reject(
          refusal(
            "unavailable",
            "Too many images are being processed; try again shortly (IMAGE_QUEUE_LIMIT)",
            1,
          ),
        );
      }
      return new Promise<T>((resolve, reject) => {
        const start = () => {
          const started = now();
          // The slot is free (and the time charged) before the caller hears back.
          const release = () => {
            if (settings.computeBudgetSeconds > 0) spent(owner).ms += now() - started;
            bump(running, owner, -1);
            runningTotal--;
            inflightBytes -= ticket.bytes;
            dispatch();
          };
          work().then(
            (value) => {
              release();
              resolve(value);
            },
            (err: unknown) => {
              release();
              reject(err);
            },
          );
        };
        waiting.push({ ticket, start, refuse: reject });
        bump(waitingOf, owner, 1);
        dispatch();
      });
    },
    stats: () => ({ waiting: waiting.length, running: runningTotal, inflightBytes }),
    close() {
      closed = true;
      for (const waiter of waiting.splice(0)) {
        bump(waitingOf, waiter.ticket.owner, -1);
        waiter.refuse(refusal("unavailable", "Shutting down", 1));
      }
    },
  };
}
