import type { Config } from "../../config/config.ts";
import type { ImageTask, TaskResult } from "../../core/pipeline/tasks.ts";
import { type AdmissionSettings, createImageAdmission } from "../../platform/admission.ts";
import { ApiError } from "../../platform/api-error.ts";
import { type ImageProcessor, pipelineFailure } from "../../platform/image-processor.ts";
import type { Logger } from "../../platform/logger.ts";
import { DURATION_BUCKETS, type Metrics, noopMetrics } from "../../platform/metrics.ts";
import type { WorkerReply, WorkerRequest } from "./image-worker.ts";

export type WorkerPoolOptions = {
  size: number;
  /** Jobs that may wait for a worker; beyond this the pool answers 503 instead of growing memory. */
  queueLimit: number;
  timeoutMs: number;
  logger: Logger;
  /**
   * Fairness and budgets of the admission in front of the pool; unset: no per-user limits, no
   * byte or compute budget (the pool's size and queue limit still apply).
   */
  admission?: Omit<AdmissionSettings, "concurrency" | "queueLimit">;
  /** Where task durations, the queues' depth and busy workers are reported; nowhere unless given. */
  metrics?: Metrics;
};

/** The pool a process of `config` runs: the compute budget's window is the rate limits'. */
export function workerPoolOptions(
  config: Config,
  logger: Logger,
  metrics: Metrics = noopMetrics,
): WorkerPoolOptions {
  const { admission, ...pool } = config.workers;
  return {
    ...pool,
    logger,
    metrics,
    admission: { ...admission, windowSeconds: config.rateLimits.windowSeconds },
  };
}

type Task = {
  id: number;
  task: ImageTask;
  /** When a worker took it (performance.now()). */
  startedAt?: number;
  resolve: (out: TaskResult) => void;
  reject: (err: unknown) => void;
};

type Slot = {
  worker: Worker;
  /**
   * The worker has compiled the common codecs: tasks go only to warm workers, so none times out
   * while a fresh worker compiles.
   */
  warm: boolean;
  task: Task | null;
  timer: ReturnType<typeof setTimeout> | null;
};

const workerUrl = new URL("./image-worker.ts", import.meta.url);

/**
 * A fixed pool of Bun Workers running image tasks, so that decoding a 50 MP image never blocks the
 * HTTP event loop (nor, later, the RabbitMQ heartbeats: amqp-node/amqplib#261).
 */
export function createWorkerPool(
  options: WorkerPoolOptions,
): ImageProcessor & { ready: Promise<{ ms: number }> } {
  const queue: Task[] = [];
  const slots: Slot[] = [];
  let nextId = 1;
  let completed = 0;
  let closed = false;
  const started = performance.now();
  let pendingWarm = options.size;
  let warmed: (value: { ms: number }) => void = () => {};
  const ready = new Promise<{ ms: number }>((resolve) => {
    warmed = resolve;
  });
  // One admitted task per worker: it reads its original only when a worker is free for it.
  const admission = createImageAdmission({
    concurrency: options.size,
    queueLimit: options.queueLimit,
    perUser: options.size,
    perUserQueue: options.queueLimit,
    maxInflightBytes: Number.POSITIVE_INFINITY,
    computeBudgetSeconds: 0,
    windowSeconds: 60,
    ...options.admission,
  });
  const metrics = options.metrics ?? noopMetrics;
  const durations = metrics.histogram({
    name: "pictor_image_task_duration_seconds",
    help: "Image tasks in a worker by kind and outcome (ok, failed, timeout, crashed)",
    labelNames: ["kind", "outcome"],
    buckets: DURATION_BUCKETS,
  });
  const measure = (task: Task, outcome: "ok" | "failed" | "timeout" | "crashed") =>
    durations.observe(
      { kind: task.task.kind, outcome },
      (performance.now() - (task.startedAt ?? performance.now())) / 1000,
    );
  metrics.gauge({
    name: "pictor_image_queue_depth",
    help: "Image work waiting: for its turn in the admission, or (admitted) for a free worker",
    labelNames: ["queue"],
    read: () => [
      { labels: { queue: "admission" }, value: admission.stats().waiting },
      { labels: { queue: "workers" }, value: queue.length },
    ],
  });
  metrics.gauge({
    name: "pictor_image_workers_busy",
    help: "Image workers running a task",
    labelNames: [],
    read: () => [{ labels: {}, value: slots.filter((s) => s.task).length }],
  });
  metrics.gauge({
    name: "pictor_image_workers",
    help: "Image workers in the pool (IMAGE_WORKERS)",
    labelNames: [],
    read: () => [{ labels: {}, value: slots.length }],
  });

  const replaceWorker = (slot: Slot) => {
    const worker = new Worker(workerUrl);
    worker.onmessage = (event: MessageEvent<WorkerReply>) => {
      if (!("ready" in event.data)) return finish(slot, event.data);
      if (event.data.ready === "common") {
        slot.warm = true;
        return dispatch();
      }
      // Only the first workers count for `ready`: a replacement warms up while tasks wait.
      if (pendingWarm > 0 && --pendingWarm === 0) warmed({ ms: performance.now() - started });
    };
    worker.onerror = (event) => {
      options.logger.error("image worker crashed", { error: event.message });
      if (slot.task) measure(slot.task, "crashed");
      worker.terminate();
      fail(slot, new ApiError("unprocessable_image", "The image could not be processed"));
      replaceWorker(slot);
      dispatch();
    };
    slot.worker = worker;
    slot.warm = false;
  };

  const fail = (slot: Slot, err: unknown) => {
    const task = slot.task;
    if (slot.timer) clearTimeout(slot.timer);
    slot.task = null;
    slot.timer = null;
    task?.reject(err);
  };

  const finish = (slot: Slot, reply: Exclude<WorkerReply, { ready: string }>) => {
    const task = slot.task;
    if (!task || task.id !== reply.id) return;
    if (slot.timer) clearTimeout(slot.timer);
    slot.task = null;
    slot.timer = null;
    completed++;
    measure(task, reply.ok ? "ok" : "failed");
    if (reply.ok) {
      task.resolve(reply.result);
    } else {
      task.reject(pipelineFailure(reply.failure, options.logger));
      if (reply.fatal) {
        options.logger.warn("image worker replaced after a codec exited", {
          error: reply.failure.message,
        });
        slot.worker.terminate();
        replaceWorker(slot);
      }
    }
    dispatch();
  };

  const dispatch = () => {
    for (const slot of slots) {
      if (slot.task || !slot.warm) continue;
      const task = queue.shift();
      if (!task) return;
      slot.task = task;
      task.startedAt = performance.now();
      slot.timer = setTimeout(() => {
        measure(task, "timeout");
        // A stuck codec cannot be interrupted: the worker goes, and a fresh one takes its place.
        options.logger.warn("image job timed out", { timeout_ms: options.timeoutMs });
        slot.worker.terminate();
        fail(
          slot,
          new ApiError(
            "unavailable",
            `Processing took longer than ${options.timeoutMs} ms (IMAGE_TIMEOUT_MS)`,
          ),
        );
        replaceWorker(slot);
        dispatch();
      }, options.timeoutMs);
      // Structured clone copies the bytes, and the caller keeps its own; except an upload's
      // validation, whose bytes are handed over (validateDecodable), so that a 20 MB upload is not
      // held twice.
      const handedOver = task.task.kind === "validate" ? [task.task.job.bytes.buffer] : [];
      slot.worker.postMessage(
        { id: task.id, task: task.task } satisfies WorkerRequest,
        handedOver as Transferable[],
      );
    }
  };

  for (let i = 0; i < options.size; i++) {
    const slot = { task: null, timer: null, warm: false } as unknown as Slot;
    replaceWorker(slot);
    slots.push(slot);
  }

  return {
    /** Settles once every first worker has compiled and instantiated every codec. */
    ready,
    run(task) {
      if (closed)
        return Promise.reject(new ApiError("unavailable", "The image worker pool is shut down"));
      // A worker still warming up will take a task soon: it counts as a free one, not the queue.
      const idle = slots.filter((s) => !s.task).length;
      if (queue.length >= options.queueLimit + idle) {
        return Promise.reject(
          new ApiError("unavailable", "Too many images are being processed; try again shortly", {
            headers: { "Retry-After": "1" },
          }),
        );
      }
      return new Promise<TaskResult>((resolve, reject) => {
        queue.push({ id: nextId++, task, resolve, reject });
        dispatch();
      });
    },
    admit: (ticket, work) => admission.run(ticket, work),
    stats: () => ({
      queued: queue.length,
      running: slots.filter((s) => s.task).length,
      completed,
      admission: admission.stats(),
    }),
    async close() {
      closed = true;
      admission.close();
      for (const task of queue.splice(0)) task.reject(new ApiError("unavailable", "Shutting down"));
      for (const slot of slots) {
        fail(slot, new ApiError("unavailable", "Shutting down"));
        slot.worker.terminate();
      }
    },
  };
}
