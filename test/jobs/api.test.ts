import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeAll, variantAvailable, WITH_S3 } from "../support/database.ts";
import {
  type ApiEnv,
  type JobJson,
  openApiEnv,
  openSse,
  type SseMessage,
  submitJob,
  uploadImages,
  waitForJobApi,
} from "./api-support.ts";
import { seededPng } from "./helpers.ts";

const THUMBNAIL = {
  transform: { operations: [{ op: "resize", width: 32, height: 32 }], format: "png" },
};

type Event = Extract<SseMessage, { kind: "event" }>;

/** Reads events from `client` until `stop` says so; comments are collected apart. */
async function readEvents(
  client: Awaited<ReturnType<typeof openSse>>,
  stop: (events: Event[]) => boolean,
  comments: string[] = [],
): Promise<Event[]> {
  const events: Event[] = [];
  while (!stop(events)) {
    const message = await client.next();
    if (!message) break;
    if (message.kind === "comment") comments.push(message.text);
    else events.push(message);
  }
  return events;
}

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "pictor-jobs-api-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Writes an archive to disk and runs Info-ZIP's own integrity test and listing on it. */
async function checkZip(bytes: Uint8Array, name: string) {
  const path = join(scratch, name);
  await writeFile(path, bytes);
  const test = Bun.spawnSync(["unzip", "-t", path]);
  const list = Bun.spawnSync(["unzip", "-Z1", path]);
  const python = Bun.spawnSync([
    "python3",
    "-c",
    "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(z.testzip()); print(len(z.infolist()))",
    path,
  ]);
  return {
    path,
    unzipOk: test.exitCode === 0 && test.stdout.toString().includes("No errors detected"),
    names: list.stdout.toString().trim().split("\n").filter(Boolean),
    python: python.stdout.toString().trim().split("\n"),
  };
}

for (const kind of WITH_S3) {
  const run = variantAvailable(kind) ? describe : describe.skip;

  run(`jobs API [${kind}]`, () => {
    let env: ApiEnv;
    let server: ReturnType<typeof Bun.serve>;

    beforeAll(async () => {
      env = await openApiEnv(kind, { heartbeatMs: 300 });
      server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => env.rawApp.fetch(req) });
    });
    afterAll(() =>
      closeAll(
        () => server?.stop(true),
        () => env?.close(),
      ),
    );

    const eventsUrl = (id: string) => `${server.url.origin}/v1/jobs/${id}/events`;

    test("a 100-image transform job via the API: 100 results, 100 %, and an SSE client joining midway (then resuming with Last-Event-ID) gets every event in order, then done", async () => {
      const { user } = env;
      const images = await uploadImages(user, 100);
      const { res, job } = await submitJob(user, { image_ids: images, task: THUMBNAIL });
      expect(res.status).toBe(202);
      expect(res.headers.get("location")).toBe(`/v1/jobs/${job.id}`);
      expect([job.status, job.kind, job.progress]).toEqual([
        "queued",
        "transform",
        { total: 100, done: 0, failed: 0, canceled: 0, percent: 0 },
      ]);
      const jobs = env.services.background.jobs;
      const eventIds = async () =>
        (
          await env.db.sql<{ id: string }[]>`
            SELECT id::text FROM job_events WHERE job_id = ${job.id} ORDER BY job_events.id`
        ).map((e) => e.id);

      // Midway: let a third of it run, then hold the workers (the items in hand finish).
      for (;;) {
        const now = (await (await user.app.request(`/v1/jobs/${job.id}`)).json()) as JobJson;
        if (now.progress.done >= 30) break;
        await Bun.sleep(10);
      }
      await jobs.stop();
      // Whatever happens below, the workers run again for the next tests.
      const restart = () => jobs.start();
      const paused = (await (await user.app.request(`/v1/jobs/${job.id}`)).json()) as JobJson;
      expect(paused.status).toBe("running");
      expect(paused.progress.percent).toBeLessThan(100);
      const sofar = await eventIds();

      // 1st client, over a real HTTP connection: the history first…
      const auth = { Authorization: `Bearer ${user.token}` };
      const first = await openSse(eventsUrl(job.id), auth);
      expect(first.response.status).toBe(200);
      expect(first.response.headers.get("content-type")).toBe("text/event-stream");
      const comments: string[] = [];
      const replayed = await readEvents(first, (e) => e.length === sofar.length, comments);
      expect(replayed.map((e) => e.id)).toEqual(sofar);
      // …then, while nothing happens, heartbeats (comment lines) keep the connection open.
      await readEvents(first, () => comments.length > 0, comments);
      expect(comments[0]).toBe("heartbeat");
      // …then live events as the workers go on.
      await jobs.start();
      const live = await readEvents(first, (e) => e.length >= 20);
      await jobs.stop();
      first.close();
      const seen = [...replayed, ...live];

      // 2nd client resumes after the last event the first one saw.
      const last = seen.at(-1)?.id as string;
      const second = await openSse(eventsUrl(job.id), { ...auth, "Last-Event-ID": last });
      await jobs.start();
      const rest = await readEvents(second, (e) => e.at(-1)?.event === "done").finally(restart);
      // The stream ends after `done`.
      expect(await second.next()).toBeNull();

      const all = await eventIds();
      const received = [...seen, ...rest];
      expect(received.map((e) => e.id)).toEqual(all);
      expect(new Set(received.map((e) => e.id)).size).toBe(received.length);
      expect(received.filter((e) => e.event === "item")).toHaveLength(100);
      expect(received.filter((e) => e.event === "done")).toHaveLength(1);
      expect(received.at(-1)?.data).toEqual({
        status: "succeeded",
        error: null,
        total: 100,
        done: 100,
        failed: 0,
        canceled: 0,
        percent: 100,
      });
      const progress = received.filter((e) => e.event === "progress");
      const percents = progress.map((e) => (e.data as { percent: number }).percent);
      expect(percents.at(-1)).toBe(100);
      expect(percents).toEqual([...percents].sort((a, b) => a - b));

      const done = await waitForJobApi(user, job.id);
      expect([done.status, done.progress]).toEqual([
        "succeeded",
        { total: 100, done: 100, failed: 0, canceled: 0, percent: 100 },
      ]);
      // 100 items, each with its own derived 32×32 PNG, listed page by page.
      const items: { image_id: string; status: string; result_id: string }[] = [];
      let cursor: string | null = "";
      while (cursor !== null) {
        const page = (await (
          await user.app.request(
            `/v1/jobs/${job.id}/items?limit=40${cursor ? `&cursor=${cursor}` : ""}`,
          )
        ).json()) as { items: typeof items; next_cursor: string | null };
        items.push(...page.items);
        cursor = page.next_cursor;
      }
      expect(items.map((i) => i.image_id)).toEqual(images);
      expect(items.every((i) => i.status === "succeeded")).toBe(true);
      expect(new Set(items.map((i) => i.result_id)).size).toBe(100);
      const derived = (await (
        await user.app.request(`/v1/images/${items[99]?.result_id}`)
      ).json()) as { width: number; height: number; format: string; source_id: string };
      expect(derived).toMatchObject({
        width: 32,
        height: 32,
        format: "png",
        source_id: images[99],
      });
      // The client that left and the one that saw `done` hold no subscription any more.
      expect(env.services.jobs.openStreams()).toBe(0);
      // A client resuming after `done` gets nothing more: the stream ends at once.
      const after = await openSse(eventsUrl(job.id), {
        ...auth,
        "Last-Event-ID": all.at(-1) ?? "",
      });
      expect(await after.next()).toBeNull();
      expect(env.services.jobs.openStreams()).toBe(0);
    }, 120_000);

    test("multipart: files stored as by POST /v1/images, refused ones reported, the job runs over the rest", async () => {
      const { user } = env;
      const form = new FormData();
      form.append("task", JSON.stringify({ histogram: { space: "luma", bins: 8 } }));
      form.append("file", new File([seededPng(500)], "a.png"));
      form.append("file", new File([new TextEncoder().encode("not an image")], "notes.txt"));
      form.append("file", new File([seededPng(501)], "b.png"));
      form.append("notify", "never");
      const res = await user.app.request("/v1/jobs", { method: "POST", body: form });
      expect(res.status).toBe(202);
      const job = (await res.json()) as JobJson;
      expect(res.headers.get("location")).toBe(`/v1/jobs/${job.id}`);
      expect([job.kind, job.notify, job.progress.total]).toEqual(["histogram", "never", 2]);
      expect(job.images?.length).toBe(2);
      expect(job.errors).toEqual([
        {
          index: 1,
          filename: "notes.txt",
          status: 415,
          title: "Unsupported media type",
          detail: "Not a JPEG, PNG, WebP or AVIF file (judged by its content)",
        },
      ]);
      const done = await waitForJobApi(user, job.id);
      expect([done.status, done.progress.done]).toEqual(["succeeded", 2]);
      expect(done.notifications).toEqual([]);
      const items = (await (await user.app.request(`/v1/jobs/${job.id}/items`)).json()) as {
        items: { image_id: string; result_id: string; result_kind: string }[];
      };
      expect(items.items.map((i) => [i.image_id, i.result_id, i.result_kind])).toEqual(
        (job.images ?? []).map((i) => [i.id, i.id, "histogram"]),
      );
    });

    test("multipart: a bad or missing task refuses the request and leaves no image behind", async () => {
      const user = await env.createUser();
      const count = async () =>
        ((await (await user.app.request("/v1/images")).json()) as { items: unknown[] }).items
          .length;
      const send = async (parts: [string, string | File][]) => {
        const form = new FormData();
        for (const [name, value] of parts) form.append(name, value);
        const res = await user.app.request("/v1/jobs", { method: "POST", body: form });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
      const file = () => new File([seededPng(600)], "c.png");
      // The task after the file: the file was stored, then removed again.
      const late = await send([
        ["file", file()],
        ["task", JSON.stringify({ histogram: { bins: 0 } })],
      ]);
      expect(late.status).toBe(422);
      expect(late.body.errors).toEqual([
        {
          path: "body.task.histogram.bins",
          message: "Expected an integer between 1 and 256 for bins but received 0",
        },
      ]);
      const early = await send([
        ["task", "{not json"],
        ["file", file()],
      ]);
      expect([early.status, early.body.detail]).toEqual([
        422,
        "body.task: Expected the task as JSON",
      ]);
      const none = await send([["file", file()]]);
      expect([none.status, none.body.detail]).toEqual([422, "The body has no task field"]);
      const noFile = await send([["task", JSON.stringify(THUMBNAIL)]]);
      expect([noFile.status, noFile.body.detail]).toEqual([422, "The body has no file part"]);
      const refused = await send([
        ["task", JSON.stringify(THUMBNAIL)],
        ["file", new File([new Uint8Array(10)], "zeros.bin")],
      ]);
      expect(refused.status).toBe(415);
      expect((refused.body.errors as { index: number }[]).map((e) => e.index)).toEqual([0]);
      expect(await count()).toBe(0);
      const listed = (await (await user.app.request("/v1/jobs")).json()) as { items: unknown[] };
      expect(listed.items).toEqual([]);
    });

    test("JSON body: ids of images the caller cannot see, bad tasks and other bodies are refused, nothing created", async () => {
      const { user, other } = env;
      const [mine] = await uploadImages(user, 1, 700);
      const [theirs] = await uploadImages(other, 1, 701);
      const missing = "019aa3f2-6b1e-7000-8a4f-3c2d1e0f9a8b";
      const before = (await (await user.app.request("/v1/jobs?limit=100")).json()) as {
        items: unknown[];
      };
      const refused = await submitJob(user, {
        image_ids: [mine, theirs, missing],
        task: THUMBNAIL,
      });
      expect(refused.res.status).toBe(422);
      expect(refused.job).toMatchObject({
        detail: `No image with id ${theirs} (image_ids.1) and 1 more`,
        errors: [
          { path: "image_ids.1", message: `No image with id ${theirs}` },
          { path: "image_ids.2", message: `No image with id ${missing}` },
        ],
      });
      const badTask = await submitJob(user, {
        image_ids: [mine],
        task: { transform: { operations: [{ op: "resize", width: 0 }] } },
      });
      expect(badTask.res.status).toBe(422);
      expect(JSON.stringify(badTask.job)).toContain("json.task.transform.operations.0.width");
      const twoTasks = await submitJob(user, {
        image_ids: [mine],
        task: { histogram: {}, segmentation: { method: "otsu" } },
      });
      expect(JSON.stringify(twoTasks.job)).toContain(
        "Expected task to have exactly one of transform, histogram, segmentation but received histogram and segmentation",
      );
      const badId = await submitJob(user, { image_ids: ["nope"], task: THUMBNAIL });
      expect((badId.job as unknown as { errors: unknown }).errors).toEqual([
        { path: "json.image_ids.0", message: 'Expected an image id (a UUID) but received "nope"' },
      ]);
      const repeated = await submitJob(user, {
        image_ids: [mine, `${mine}`.toUpperCase()],
        task: THUMBNAIL,
      });
      expect(repeated.res.status).toBe(422);
      expect((repeated.job as unknown as { errors: unknown }).errors).toEqual([
        {
          path: "json.image_ids.1",
          message: `Expected distinct image ids but received ${`${mine}`.toUpperCase()} twice`,
        },
      ]);
      const badNotify = await submitJob(user, {
        image_ids: [mine],
        task: THUMBNAIL,
        notify: "sometimes",
      });
      expect(badNotify.res.status).toBe(422);
      const text = await user.app.request("/v1/jobs", {
        method: "POST",
        headers: { "Content-Type": "text/plain" },
        body: "hello",
      });
      expect(text.status).toBe(415);
      const empty = await user.app.request("/v1/jobs", { method: "POST" });
      expect(empty.status).toBe(415);
      const after = (await (await user.app.request("/v1/jobs?limit=100")).json()) as {
        items: unknown[];
      };
      expect(after.items.length).toBe(before.items.length);
    });

    test("cancel via the API: queued items never run, the job ends canceled, its stream ends with done", async () => {
      const { user } = env;
      const images = await uploadImages(user, 20, 800);
      const jobs = env.services.background.jobs;
      await jobs.stop();
      try {
        const { job } = await submitJob(user, { image_ids: images, task: THUMBNAIL });
        const res = await user.app.request(`/v1/jobs/${job.id}/cancel`, { method: "POST" });
        expect(res.status).toBe(200);
        const canceled = (await res.json()) as JobJson & { cancel_requested_at: string };
        expect([canceled.status, canceled.progress]).toEqual([
          "canceled",
          { total: 20, done: 0, failed: 0, canceled: 20, percent: 100 },
        ]);
        expect(canceled.cancel_requested_at).not.toBeNull();
        // Again: a finished job is answered unchanged.
        const again = (await (
          await user.app.request(`/v1/jobs/${job.id}/cancel`, { method: "POST" })
        ).json()) as JobJson;
        expect(again.finished_at).toBe(canceled.finished_at);
        const items = (await (
          await user.app.request(`/v1/jobs/${job.id}/items?limit=1000`)
        ).json()) as { items: { status: string; attempts: number }[] };
        expect(items.items.every((i) => i.status === "canceled" && i.attempts === 0)).toBe(true);
        const listed = (await (await user.app.request("/v1/jobs?status=canceled")).json()) as {
          items: { id: string }[];
        };
        expect(listed.items.map((j) => j.id)).toContain(job.id);
        const running = (await (await user.app.request("/v1/jobs?status=running")).json()) as {
          items: { id: string }[];
        };
        expect(running.items.map((j) => j.id)).not.toContain(job.id);
        const stream = await openSse(eventsUrl(job.id), { Authorization: `Bearer ${user.token}` });
        const events = await readEvents(stream, () => false);
        expect(events.map((e) => e.event)).toEqual(["progress", "done"]);
        expect(events[1]?.data).toMatchObject({ status: "canceled", canceled: 20 });
      } finally {
        await jobs.start();
      }
    });

    test("items pagination, job listing pagination, and their parameter errors", async () => {
      const user = await env.createUser();
      const images = await uploadImages(user, 5, 900);
      const { job } = await submitJob(user, { image_ids: images, task: THUMBNAIL });
      await waitForJobApi(user, job.id);
      const pages: { items: { position: number }[]; next_cursor: string | null }[] = [];
      let cursor: string | null = null;
      do {
        const res = await user.app.request(
          `/v1/jobs/${job.id}/items?limit=2${cursor === null ? "" : `&cursor=${cursor}`}`,
        );
        const page = (await res.json()) as (typeof pages)[number];
        pages.push(page);
        cursor = page.next_cursor;
      } while (cursor !== null);
      expect(pages.map((p) => [p.items.map((i) => i.position), p.next_cursor])).toEqual([
        [[0, 1], "1"],
        [[2, 3], "3"],
        [[4], null],
      ]);
      const bad = await user.app.request(`/v1/jobs/${job.id}/items?cursor=-1`);
      expect(bad.status).toBe(422);
      expect(((await bad.json()) as { detail: string }).detail).toBe(
        'query.cursor: Expected an integer between 0 and 2147483647 for cursor but received "-1"',
      );
      const second = await submitJob(user, { image_ids: images.slice(0, 1), task: THUMBNAIL });
      const list1 = (await (await user.app.request("/v1/jobs?limit=1")).json()) as {
        items: { id: string }[];
        next_cursor: string;
      };
      expect(list1.items.map((j) => j.id)).toEqual([second.job.id]);
      const list2 = (await (
        await user.app.request(`/v1/jobs?limit=1&cursor=${list1.next_cursor}`)
      ).json()) as { items: { id: string }[]; next_cursor: string | null };
      expect([list2.items.map((j) => j.id), list2.next_cursor]).toEqual([[job.id], null]);
      const badStatus = await user.app.request("/v1/jobs?status=done");
      expect(badStatus.status).toBe(422);
      await waitForJobApi(user, second.job.id);
    });

    test("results.zip: a valid archive with one file per result (images, histogram JSON, masks)", async () => {
      const user = await env.createUser();
      const images = await uploadImages(user, 3, 1000);
      const transform = await submitJob(user, { image_ids: images, task: THUMBNAIL });
      const histogram = await submitJob(user, {
        image_ids: images,
        task: { histogram: { space: "rgb", bins: 4 } },
      });
      const segmentation = await submitJob(user, {
        image_ids: images.slice(0, 2),
        task: { segmentation: { method: "otsu" } },
      });
      for (const { job } of [transform, histogram, segmentation]) {
        expect((await waitForJobApi(user, job.id)).status).toBe("succeeded");
      }
      const download = async (id: string) => {
        const res = await user.app.request(`/v1/jobs/${id}/results.zip`);
        expect(res.status).toBe(200);
        expect(res.headers.get("content-type")).toBe("application/zip");
        return new Uint8Array(await res.arrayBuffer());
      };

      const a = await checkZip(await download(transform.job.id), `t-${kind}.zip`);
      expect(a.unzipOk).toBe(true);
      expect(a.names).toEqual(["001-photo-0.png", "002-photo-1.png", "003-photo-2.png"]);
      expect(a.python).toEqual(["None", "3"]);
      // The entries are the derived images, byte for byte.
      const items = (await (
        await user.app.request(`/v1/jobs/${transform.job.id}/items`)
      ).json()) as {
        items: { result_id: string }[];
      };
      const original = new Uint8Array(
        await (
          await user.app.request(`/v1/images/${items.items[0]?.result_id}/file`)
        ).arrayBuffer(),
      );
      const extracted = Bun.spawnSync(["unzip", "-p", a.path, "001-photo-0.png"]).stdout;
      expect(Buffer.compare(Buffer.from(extracted), Buffer.from(original))).toBe(0);

      const h = await checkZip(await download(histogram.job.id), `h-${kind}.zip`);
      expect(h.unzipOk).toBe(true);
      expect(h.names).toEqual([
        "001-photo-0.histogram.json",
        "002-photo-1.histogram.json",
        "003-photo-2.histogram.json",
      ]);
      const parsed = JSON.parse(
        Bun.spawnSync(["unzip", "-p", h.path, "002-photo-1.histogram.json"]).stdout.toString(),
      );
      expect(parsed.image_id).toBe(images[1]);
      expect(parsed.space).toBe("rgb");
      expect(parsed.channels).toHaveLength(3);
      expect(parsed.channels[0].counts).toHaveLength(4);

      const s = await checkZip(await download(segmentation.job.id), `s-${kind}.zip`);
      expect(s.unzipOk).toBe(true);
      expect(s.names).toEqual([
        "001-photo-0.mask.png",
        "001-photo-0.segmentation.json",
        "002-photo-1.mask.png",
        "002-photo-1.segmentation.json",
      ]);
      const mask = Bun.spawnSync(["unzip", "-p", s.path, "001-photo-0.mask.png"]).stdout;
      expect([...mask.subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);

      // A job with no result yet gives an empty (valid) archive.
      const jobs = env.services.background.jobs;
      await jobs.stop();
      try {
        const pending = await submitJob(user, { image_ids: images, task: THUMBNAIL });
        const empty = await checkZip(await download(pending.job.id), `e-${kind}.zip`);
        expect(empty.python).toEqual(["None", "0"]);
        await user.app.request(`/v1/jobs/${pending.job.id}/cancel`, { method: "POST" });
      } finally {
        await jobs.start();
      }
    });

    test("user B gets 404 on A's job for get, items, cancel, events and results.zip; admins see it", async () => {
      const { user, other } = env;
      const [image] = await uploadImages(user, 1, 1100);
      const { job } = await submitJob(user, { image_ids: [image], task: THUMBNAIL });
      for (const [method, path] of [
        ["GET", ""],
        ["GET", "/items"],
        ["POST", "/cancel"],
        ["GET", "/events"],
        ["GET", "/results.zip"],
      ] as const) {
        const res = await other.app.request(`/v1/jobs/${job.id}${path}`, { method });
        expect([path, res.status]).toEqual([path, 404]);
        expect(((await res.json()) as { detail: string }).detail).toBe(`No job with id ${job.id}`);
      }
      // Over a real connection too, before any byte of a stream.
      const stream = await fetch(eventsUrl(job.id), {
        headers: { Authorization: `Bearer ${other.token}` },
      });
      expect(stream.status).toBe(404);
      expect(stream.headers.get("content-type")).toBe("application/problem+json");
      await stream.body?.cancel();
      const listed = (await (await other.app.request("/v1/jobs")).json()) as {
        items: { id: string }[];
      };
      expect(listed.items.map((j) => j.id)).not.toContain(job.id);
      const finished = await waitForJobApi(user, job.id);
      expect(finished.status).toBe("succeeded");
      const admin = await env.createUser({ role: "admin" });
      expect((await admin.app.request(`/v1/jobs/${job.id}`)).status).toBe(200);
      expect((await fetch(`${server.url.origin}/v1/jobs/${job.id}`)).status).toBe(401);
    });
  });
}
