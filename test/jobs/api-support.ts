import { createApp } from "../../src/app.ts";
import type { JobSettings, NotificationSettings } from "../../src/config.ts";
import type { Database } from "../../src/db/database.ts";
import type { App } from "../../src/http/env.ts";
import { createJsonLogger } from "../../src/logger.ts";
import { bunPasswordHasher } from "../../src/runtime/bun/password.ts";
import { createWorkerPool } from "../../src/runtime/bun/worker-pool.ts";
import { createServices, type ServicesWithBackground } from "../../src/runtime/services.ts";
import type { ImageProcessor } from "../../src/services/processor.ts";
import { memorySpool } from "../../src/storage/spool.ts";
import {
  closeAll,
  createTestUser,
  type DatabaseKind,
  openTestDatabase,
  TEST_AUTH,
  TEST_RATE_LIMITS,
  type TestUser,
} from "../support/database.ts";
import { JOB_LIMITS, seededPng } from "./helpers.ts";

export const TEST_JOB_SETTINGS: JobSettings = {
  amqpUrl: undefined,
  workerSecret: "a test worker secret of at least 32 characters",
  queuePrefix: "pictor",
  maxAttempts: 3,
  concurrency: 2,
  retryBaseMs: 50,
  leaseMs: 60_000,
  pollMs: 50,
  messageMaxAgeMs: 86_400_000,
};

export const TEST_NOTIFY_SETTINGS: NotificationSettings = {
  smtpUrl: undefined,
  mailFrom: "Pictor <pictor@pictor.test>",
  maxAttempts: 3,
  backoffMs: 50,
  backoffMaxMs: 200,
  timeoutMs: 3000,
  pollMs: 50,
  attachMaxFiles: 5,
  attachMaxBytes: 5 * 1024 * 1024,
};

export type ApiEnv = {
  db: Database;
  services: ServicesWithBackground;
  /** The app itself, without credentials (what a server serves). */
  rawApp: App;
  /** The job owner; `other` is a second, unrelated user. */
  user: TestUser;
  other: TestUser;
  createUser(options?: { role?: "user" | "admin" }): Promise<TestUser>;
  logs: string[];
  close(): Promise<void>;
};

/**
 * The whole app over a fresh database, with jobs running in-process (the zero-setup transport)
 * and notifications delivered by its dispatcher, both started: what `npm start` runs, in the test
 * process.
 */
export async function openApiEnv(
  kind: DatabaseKind,
  options: {
    jobs?: Partial<JobSettings>;
    notify?: Partial<NotificationSettings>;
    allowLoopbackWebhooks?: boolean;
    heartbeatMs?: number;
    db?: Database;
    start?: boolean;
  } = {},
): Promise<ApiEnv> {
  const db = options.db ?? (await openTestDatabase(kind));
  const logs: string[] = [];
  const logger = createJsonLogger("debug", (line) => logs.push(line));
  const processor: ImageProcessor = createWorkerPool({
    size: 2,
    queueLimit: 256,
    timeoutMs: 60_000,
    logger,
  });
  const loopback = options.allowLoopbackWebhooks ?? false;
  const services = createServices({
    db,
    spool: memorySpool,
    processor,
    hasher: bunPasswordHasher(),
    limits: JOB_LIMITS,
    auth: TEST_AUTH,
    rateLimits: { ...TEST_RATE_LIMITS, requests: 0 },
    logger,
    jobs: { ...TEST_JOB_SETTINGS, ...options.jobs },
    notify: {
      publicUrl: "https://pictor.test",
      settings: { ...TEST_NOTIFY_SETTINGS, ...options.notify },
      webhooks: loopback
        ? { allowHttpHosts: ["127.0.0.1"], allowPrivate: ["127.0.0.1"] }
        : { allowHttpHosts: [], allowPrivate: [] },
    },
    heartbeatMs: options.heartbeatMs ?? 15_000,
  });
  const app = createApp({ services });
  const close = () =>
    closeAll(
      () => services.background.stop(),
      () => processor.close(),
      () => (options.db ? undefined : db.close()),
    );
  try {
    if (options.start ?? true) await services.background.start();
    const user = await createTestUser(services, app);
    const other = await createTestUser(services, app);
    return {
      db,
      services,
      rawApp: app,
      user,
      other,
      createUser: (opts) => createTestUser(services, app, opts),
      logs,
      close,
    };
  } catch (err) {
    // The caller gets no env to close: this is the only chance to drop the schema.
    await close().catch(() => {});
    throw err;
  }
}

const json = (body: unknown) => ({
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify(body),
});

/** Uploads `count` distinct 64×64 PNGs as `user` through POST /v1/images; their ids in order. */
export async function uploadImages(
  user: TestUser,
  count: number,
  firstSeed = 0,
): Promise<string[]> {
  const ids: string[] = [];
  for (let at = 0; at < count; at += 50) {
    const form = new FormData();
    for (let i = at; i < Math.min(count, at + 50); i++) {
      form.append("file", new File([seededPng(firstSeed + i)], `photo-${i}.png`));
    }
    const res = await user.app.request("/v1/images", { method: "POST", body: form });
    if (res.status !== 201) throw new Error(`upload: ${res.status} ${await res.text()}`);
    ids.push(...((await res.json()) as { images: { id: string }[] }).images.map((i) => i.id));
  }
  return ids;
}

export type JobJson = {
  id: string;
  status: string;
  kind: string;
  notify: string | null;
  progress: { total: number; done: number; failed: number; canceled: number; percent: number };
  finished_at: string | null;
  error: string | null;
  notifications?: {
    channel: string;
    target: string;
    status: string;
    attempts: number;
    last_error: string | null;
  }[];
  images?: { id: string }[];
  errors?: {
    index: number;
    filename: string | null;
    status: number;
    title: string;
    detail: string;
  }[];
};

/** POST /v1/jobs with a JSON body; the response and its parsed body. */
export async function submitJob(user: TestUser, body: unknown) {
  const res = await user.app.request("/v1/jobs", json(body));
  return { res, job: (await res.json()) as JobJson };
}

/** GET /v1/jobs/{id} until it is finished (or `timeoutMs` passes). */
export async function waitForJobApi(user: TestUser, id: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await user.app.request(`/v1/jobs/${id}`);
    const job = (await res.json()) as JobJson;
    if (res.status !== 200) throw new Error(`GET job: ${res.status} ${JSON.stringify(job)}`);
    if (job.finished_at) return job;
    if (Date.now() > deadline) throw new Error(`job not finished: ${JSON.stringify(job)}`);
    await Bun.sleep(25);
  }
}

export type SseMessage =
  | { kind: "event"; id: string; event: string; data: unknown }
  | { kind: "comment"; text: string };

/**
 * A Server-Sent Events client over fetch, reading a real HTTP response: `next()` returns the
 * next event or comment, or null when the server ended the stream.
 */
export async function openSse(url: string, headers: Record<string, string>) {
  const abort = new AbortController();
  const res = await fetch(url, { headers, signal: abort.signal });
  if (!res.body) throw new Error("no body");
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const queue: SseMessage[] = [];
  let ended = false;

  function parse() {
    for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields: Record<string, string> = {};
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) queue.push({ kind: "comment", text: line.slice(1).trim() });
        else {
          const at = line.indexOf(":");
          const value = line.slice(at + 1).replace(/^ /, "");
          const name = line.slice(0, at);
          fields[name] = name === "data" && fields.data ? `${fields.data}\n${value}` : value;
        }
      }
      if (fields.event !== undefined) {
        queue.push({
          kind: "event",
          id: fields.id ?? "",
          event: fields.event,
          data: JSON.parse(fields.data ?? "null"),
        });
      }
    }
  }

  return {
    response: res,
    async next(timeoutMs = 30_000): Promise<SseMessage | null> {
      const deadline = Date.now() + timeoutMs;
      while (queue.length === 0) {
        if (ended) return null;
        const read = await Promise.race([
          reader.read(),
          Bun.sleep(Math.max(0, deadline - Date.now())).then(() => "timeout" as const),
        ]);
        if (read === "timeout") throw new Error(`no SSE message within ${timeoutMs} ms`);
        if (read.done) ended = true;
        else buffer += decoder.decode(read.value, { stream: true });
        parse();
      }
      return queue.shift() ?? null;
    },
    close() {
      abort.abort();
    },
  };
}
