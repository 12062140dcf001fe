import {
  openTestEnv,
  type TestEnv,
  type TestEnvOptions,
  type TestUser,
  type TestVariant,
} from "../support/database.ts";
import { JOB_LIMITS, seededPng } from "./helpers.ts";

export type ApiEnv = TestEnv & {
  /** A second user, unrelated to the job owner `user`. */
  other: TestUser;
};

/**
 * The test environment with jobs running in-process (the zero-setup transport) and notifications
 * delivered by its dispatcher, both started, and no request budget: what `npm start` runs, in
 * the test process.
 */
export async function openApiEnv(
  kind: TestVariant,
  options: Omit<TestEnvOptions, "limits" | "rateLimits"> = {},
): Promise<ApiEnv> {
  const env = await openTestEnv(kind, {
    limits: JOB_LIMITS,
    rateLimits: { requests: 0 },
    start: true,
    ...options,
  });
  try {
    return { ...env, other: await env.createUser() };
  } catch (err) {
    await env.close().catch(() => {});
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
