import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHmac, timingSafeEqual } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPinnedPost, resolveWithDns } from "../../src/adapters/node/webhook-transport.ts";
import { uuidv7 } from "../../src/core/lib/uuid.ts";
import type { NotificationRecord } from "../../src/features/notifications/notification-service.ts";
import type { PostPinned } from "../../src/features/notifications/webhooks/webhook-service.ts";
import { ApiError } from "../../src/platform/api-error.ts";
import {
  createNotificationsRuntime,
  type NotificationsRuntime,
} from "../../src/wiring/notification-runtime.ts";
import { describeEachDatabase } from "../support/database.ts";
import { captureLogger, jobSummary, PUBLIC_URL } from "./support.ts";

/**
 * The verification procedure of docs/jobs-and-notifications.md, word for word: a receiver written from the docs.
 */
function verifyPictorSignature(
  secret: string,
  rawBody: string,
  header: string,
  toleranceSeconds = 300,
): boolean {
  const pairs = header.split(",").map((part) => part.split("=", 2));
  const t = Number(pairs.find(([key]) => key === "t")?.[1]);
  const signatures = pairs.filter(([key]) => key === "v1").map(([, value]) => value ?? "");
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > toleranceSeconds) return false;
  const expected = createHmac("sha256", secret).update(`${t}.${rawBody}`).digest();
  return signatures.some((s) => {
    const got = Buffer.from(s, "hex");
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}

type Hit = {
  path: string;
  host: string | undefined;
  headers: http.IncomingHttpHeaders;
  body: string;
  verified: boolean;
};

/** Answers by path; a delivery counts only when its signature verifies (else 400). */
function receiver(secrets: Map<string, string>, hits: Hit[]) {
  const flaky = new Map<string, number>();
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const url = new URL(req.url ?? "/", "http://receiver");
      const secret = secrets.get(url.searchParams.get("hook") ?? "") ?? "";
      const verified = verifyPictorSignature(secret, body, String(req.headers["pictor-signature"]));
      hits.push({
        path: url.pathname,
        host: req.headers.host,
        headers: req.headers,
        body,
        verified,
      });
      const redirect = (status: number, location: string) => {
        res.writeHead(status, { Location: location });
        res.end();
      };
      switch (url.pathname) {
        case "/to-hook":
          return redirect(308, `/hook${url.search}`);
        case "/to-private":
          return redirect(307, "https://169.254.169.254/latest/meta-data/");
        case "/to-ipv6-loopback":
          return redirect(307, `http://[::1]:${(req.socket.localPort ?? 0).toString()}/hook`);
        case "/loop":
          return redirect(302, `/loop${url.search}`);
        case "/flaky": {
          const n = (flaky.get(url.search) ?? 0) + 1;
          flaky.set(url.search, n);
          if (n <= 2) {
            res.writeHead(503);
            return res.end("busy");
          }
          break;
        }
      }
      res.writeHead(verified ? 204 : 400);
      res.end();
    });
  };
}

describeEachDatabase("webhooks", (ctx) => {
  const secrets = new Map<string, string>();
  const hits: Hit[] = [];
  const posted: string[] = [];
  const runtimes: NotificationsRuntime[] = [];
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    server = http.createServer(receiver(secrets, hits));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const rt of runtimes) await rt.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** Records every address a request is actually sent to. */
  const recordingPost =
    (inner: PostPinned): PostPinned =>
    (request) => {
      posted.push(`${request.target.address} ${request.target.url.href}`);
      return inner(request);
    };

  function runtime(
    options: {
      allowHttpHosts?: string[];
      allowPrivate?: string[];
      resolve?: (host: string) => Promise<string[]>;
      ca?: string;
      maxAttempts?: number;
      log?: ReturnType<typeof captureLogger>;
    } = {},
  ) {
    const rt = createNotificationsRuntime({
      db: ctx().db,
      logger: (options.log ?? captureLogger()).logger,
      publicUrl: PUBLIC_URL,
      settings: {
        smtpUrl: undefined,
        mailFrom: "Pictor <pictor@pictor.test>",
        maxAttempts: options.maxAttempts ?? 5,
        backoffMs: 20,
        backoffMaxMs: 50,
        timeoutMs: 3000,
        pollMs: 20,
        attachMaxFiles: 5,
        attachMaxBytes: 1024,
      },
      webhooks: {
        allowHttpHosts: options.allowHttpHosts ?? ["127.0.0.1"],
        allowPrivate: options.allowPrivate ?? ["127.0.0.0/8"],
      },
      readResult: async () => new Uint8Array(0),
      ...(options.resolve ? { resolve: options.resolve } : {}),
      post: recordingPost(createPinnedPost(options.ca ? { ca: options.ca } : {})),
    });
    runtimes.push(rt);
    return rt;
  }

  /** Registers a webhook on the receiver; its secret is handed to the receiver. */
  async function register(
    rt: NotificationsRuntime,
    owner: string,
    path: string,
    events?: string[],
  ) {
    const tag = uuidv7();
    const created = await rt.webhooks.create(owner, {
      url: `${base}${path}?hook=${tag}`,
      ...(events ? { events: events as never } : {}),
    });
    secrets.set(tag, created.secret);
    return { ...created, tag };
  }

  async function deliverAll(rt: NotificationsRuntime, jobId: string): Promise<NotificationRecord> {
    for (let i = 0; i < 50; i++) {
      await rt.dispatcher.runOnce();
      const [row] = await rt.notifications.listForJob(jobId);
      if (row && (row.status === "sent" || row.status === "failed")) return row;
      await Bun.sleep(25);
    }
    throw new Error("the webhook delivery did not finish");
  }

  test("registration: the secret is shown once; another owner's webhook is not found", async () => {
    const rt = runtime();
    const owner = uuidv7();
    const created = await register(rt, owner, "/hook");
    expect(created.secret).toMatch(/^whsec_[0-9a-f]{64}$/);
    expect(created.events).toEqual([
      "job.succeeded",
      "job.partially_failed",
      "job.failed",
      "job.canceled",
    ]);
    const listed = await rt.webhooks.list(owner);
    expect(listed).toEqual([
      { id: created.id, url: created.url, events: created.events, created_at: created.created_at },
    ]);
    expect(JSON.stringify(listed)).not.toContain("whsec_");
    await expect(rt.webhooks.get(uuidv7(), created.id)).rejects.toThrow(
      `No webhook with id ${created.id}`,
    );
    await expect(rt.webhooks.remove(uuidv7(), created.id)).rejects.toThrow("No webhook");
  });

  test("a delivery is a signed JSON POST that the documented procedure verifies", async () => {
    const log = captureLogger();
    const rt = runtime({ log });
    const owner = uuidv7();
    const hook = await register(rt, owner, "/hook");
    const job = jobSummary(owner);
    const [created] = await rt.notifications.enqueueForJob({ job, recipient: null });
    expect([created?.channel, created?.target, created?.event]).toEqual([
      "webhook",
      hook.id,
      "job.succeeded",
    ]);
    const row = await deliverAll(rt, job.id);
    expect([row.status, row.attempts, row.last_error]).toEqual(["sent", 1, null]);
    // The log names the receiver by its origin: a webhook URL's path may be its credential.
    const sent = log.lines.map((l) => JSON.parse(l)).find((l) => l.msg === "notification sent");
    expect(sent?.outcome).toBe(`HTTP 204 from ${base}/…`);
    expect(log.lines.join("\n")).not.toContain(hook.tag);

    const mine = hits.filter((h) => h.headers["pictor-delivery"] === created?.id);
    expect(mine).toHaveLength(1);
    const hit = mine[0] as Hit;
    expect(hit.verified).toBe(true);
    expect(hit.headers["content-type"]).toBe("application/json");
    expect(hit.headers["pictor-event"]).toBe("job.succeeded");
    expect(hit.headers["user-agent"]).toBe("Pictor-Webhooks/1");
    expect(hit.headers["pictor-signature"]).toMatch(/^t=\d{10},v1=[0-9a-f]{64}$/);
    const body = JSON.parse(hit.body);
    expect(body.id).toBe(created?.id);
    expect(body.type).toBe("job.succeeded");
    expect(body.data.job).toEqual(job);
    expect(body.data.links).toEqual({
      job: `https://pictor.test/v1/jobs/${job.id}`,
      results: `https://pictor.test/v1/jobs/${job.id}/results.zip`,
    });
    // The same body with another secret, or altered by one byte, does not verify.
    const header = String(hit.headers["pictor-signature"]);
    expect(verifyPictorSignature("whsec_wrong", hit.body, header)).toBe(false);
    expect(verifyPictorSignature(hook.secret, `${hit.body} `, header)).toBe(false);
  });

  test("only subscribed events are delivered", async () => {
    const rt = runtime();
    const owner = uuidv7();
    await register(rt, owner, "/hook", ["job.failed"]);
    const ok = jobSummary(owner);
    const bad = jobSummary(owner, { status: "failed" });
    expect(await rt.notifications.enqueueForJob({ job: ok, recipient: null })).toEqual([]);
    const created = await rt.notifications.enqueueForJob({ job: bad, recipient: null });
    expect(created.map((n) => n.event)).toEqual(["job.failed"]);
  });

  test("a failing receiver is retried with backoff until it answers 2xx", async () => {
    const rt = runtime();
    const owner = uuidv7();
    await register(rt, owner, "/flaky");
    const job = jobSummary(owner);
    const [created] = await rt.notifications.enqueueForJob({ job, recipient: null });
    const row = await deliverAll(rt, job.id);
    expect([row.status, row.attempts]).toEqual(["sent", 3]);
    const mine = hits.filter((h) => h.headers["pictor-delivery"] === created?.id);
    expect(mine.map((h) => [h.path, h.verified])).toEqual([
      ["/flaky", true],
      ["/flaky", true],
      ["/flaky", true],
    ]);
    // Each attempt is signed anew: the same id, its own timestamp.
    expect(new Set(mine.map((h) => JSON.parse(h.body).id))).toEqual(new Set([created?.id]));
  });

  test("redirects are followed by hand, each hop checked again", async () => {
    const rt = runtime();
    const owner = uuidv7();
    const follow = await register(rt, owner, "/to-hook");
    const job = jobSummary(owner);
    const [created] = await rt.notifications.enqueueForJob({ job, recipient: null });
    expect((await deliverAll(rt, job.id)).status).toBe("sent");
    const mine = hits.filter((h) => h.headers["pictor-delivery"] === created?.id);
    expect(mine.map((h) => [h.path, h.verified])).toEqual([
      ["/to-hook", true],
      ["/hook", true],
    ]);
    await rt.webhooks.remove(owner, follow.id);

    // A redirect to a private address is refused before any connection is made.
    posted.length = 0;
    const owner2 = uuidv7();
    await register(rt, owner2, "/to-private");
    const job2 = jobSummary(owner2);
    await rt.notifications.enqueueForJob({ job: job2, recipient: null });
    const refused = await deliverAll(rt, job2.id);
    expect([refused.status, refused.attempts]).toEqual(["failed", 1]);
    expect(refused.last_error).toBe(
      "Refused to connect to 169.254.169.254: a link-local address; only public addresses are allowed unless WEBHOOK_ALLOW_PRIVATE lists it",
    );
    expect(posted).toHaveLength(1);
    expect(posted[0]).toStartWith("127.0.0.1 http://127.0.0.1:");

    // So is one to [::1] (neither an http host nor an allowed address here).
    const owner3 = uuidv7();
    await register(rt, owner3, "/to-ipv6-loopback");
    const job3 = jobSummary(owner3);
    await rt.notifications.enqueueForJob({ job: job3, recipient: null });
    const refused3 = await deliverAll(rt, job3.id);
    expect(refused3.status).toBe("failed");
    expect(refused3.last_error).toBe(
      "Expected an https URL: http is allowed only to hosts listed in WEBHOOK_ALLOW_HTTP_HOSTS, and ::1 is not",
    );

    // And a loop ends after three redirects.
    const owner4 = uuidv7();
    await register(rt, owner4, "/loop");
    const job4 = jobSummary(owner4);
    const [loop] = await rt.notifications.enqueueForJob({ job: job4, recipient: null });
    const looped = await deliverAll(rt, job4.id);
    expect([looped.status, looped.attempts]).toEqual(["failed", 1]);
    expect(looped.last_error).toStartWith("Too many redirects: more than 3 from http://127.0.0.1:");
    expect(hits.filter((h) => h.headers["pictor-delivery"] === loop?.id)).toHaveLength(4);
  });

  test("the default configuration refuses loopback targets, at registration and at delivery", async () => {
    const strict = runtime({ allowHttpHosts: [], allowPrivate: [] });
    const port = new URL(base).port;
    const before = hits.length;
    const refusals: string[] = [];
    for (const url of [
      `http://127.0.0.1:${port}/hook`,
      `http://[::1]:${port}/hook`,
      `http://localhost:${port}/hook`,
      `https://localhost:${port}/hook`,
      `https://127.0.0.1:${port}/hook`,
      `https://[::1]:${port}/hook`,
      `https://[::ffff:127.0.0.1]:${port}/hook`,
    ]) {
      const err = await strict.webhooks.create(uuidv7(), { url }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).status).toBe(422);
      refusals.push((err as ApiError).detail);
    }
    expect(refusals).toEqual([
      "Expected an https URL: http is allowed only to hosts listed in WEBHOOK_ALLOW_HTTP_HOSTS, and 127.0.0.1 is not",
      "Expected an https URL: http is allowed only to hosts listed in WEBHOOK_ALLOW_HTTP_HOSTS, and ::1 is not",
      "Expected an https URL: http is allowed only to hosts listed in WEBHOOK_ALLOW_HTTP_HOSTS, and localhost is not",
      "Refused to connect to 127.0.0.1 (localhost resolves to it): a loopback address; only public addresses are allowed unless WEBHOOK_ALLOW_PRIVATE lists it",
      "Refused to connect to 127.0.0.1: a loopback address; only public addresses are allowed unless WEBHOOK_ALLOW_PRIVATE lists it",
      "Refused to connect to ::1: a loopback address; only public addresses are allowed unless WEBHOOK_ALLOW_PRIVATE lists it",
      "Refused to connect to ::ffff:7f00:1: a loopback address; only public addresses are allowed unless WEBHOOK_ALLOW_PRIVATE lists it",
    ]);

    // Registered while the rules were looser, delivered under the strict ones: refused then too.
    const owner = uuidv7();
    await register(runtime(), owner, "/hook");
    const job = jobSummary(owner);
    await strict.notifications.enqueueForJob({ job, recipient: null });
    const row = await deliverAll(strict, job.id);
    expect([row.status, row.attempts]).toEqual(["failed", 1]);
    expect(row.last_error).toContain("Expected an https URL");
    expect(hits.length).toBe(before);
  });

  test("the resolved address is pinned: the request goes there with the URL's host name", async () => {
    const port = new URL(base).port;
    const asked: string[] = [];
    const answers: Record<string, string[]> = {
      "hooks.test": ["127.0.0.1"],
      "mixed.test": ["127.0.0.1", "10.0.0.1"],
    };
    const rt = runtime({
      allowHttpHosts: ["hooks.test", "mixed.test"],
      resolve: async (host) => {
        asked.push(host);
        return answers[host] ?? [];
      },
    });
    const owner = uuidv7();
    const tag = uuidv7();
    const created = await rt.webhooks.create(owner, {
      url: `http://hooks.test:${port}/hook?hook=${tag}`,
    });
    secrets.set(tag, created.secret);
    const job = jobSummary(owner);
    const [n] = await rt.notifications.enqueueForJob({ job, recipient: null });
    expect((await deliverAll(rt, job.id)).status).toBe("sent");
    const [hit] = hits.filter((h) => h.headers["pictor-delivery"] === n?.id);
    expect([hit?.host, hit?.verified]).toEqual([`hooks.test:${port}`, true]);
    expect(asked).toEqual(["hooks.test", "hooks.test"]); // registration, delivery

    const err = await rt.webhooks
      .create(owner, { url: `http://mixed.test:${port}/hook` })
      .catch((e: unknown) => e);
    expect((err as ApiError).detail).toBe(
      "Refused to connect to 10.0.0.1 (mixed.test resolves to it): a private address; only public addresses are allowed unless WEBHOOK_ALLOW_PRIVATE lists it",
    );
  });

  test("the system resolver returns every address of a name", async () => {
    expect(await resolveWithDns("localhost")).toContain("127.0.0.1");
  });

  test("a deleted webhook's pending delivery fails instead of going anywhere", async () => {
    const rt = runtime();
    const owner = uuidv7();
    const hook = await register(rt, owner, "/hook");
    const job = jobSummary(owner);
    await rt.notifications.enqueueForJob({ job, recipient: null });
    await rt.webhooks.remove(owner, hook.id);
    const row = await deliverAll(rt, job.id);
    expect([row.status, row.attempts, row.last_error]).toEqual([
      "failed",
      1,
      "The webhook was deleted",
    ]);
  });

  // openssl makes the throwaway certificate; Debian ships it, a bare image may not.
  test.skipIf(!Bun.which("openssl"))(
    "https: the pinned connection still checks the certificate against the host name",
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "pictor-tls-"));
      const made = Bun.spawnSync(
        [
          "openssl",
          "req",
          "-x509",
          "-newkey",
          "rsa:2048",
          "-nodes",
          "-days",
          "1",
          "-subj",
          "/CN=hooks.test",
          "-addext",
          "subjectAltName=DNS:hooks.test",
          "-keyout",
          join(dir, "key.pem"),
          "-out",
          join(dir, "cert.pem"),
        ],
        { stderr: "pipe" },
      );
      expect(made.exitCode).toBe(0);
      const key = await readFile(join(dir, "key.pem"), "utf8");
      const cert = await readFile(join(dir, "cert.pem"), "utf8");
      await rm(dir, { recursive: true });
      const tlsHits: Hit[] = [];
      const tls = https.createServer({ key, cert }, receiver(secrets, tlsHits));
      await new Promise<void>((resolve) => tls.listen(0, "127.0.0.1", resolve));
      const port = (tls.address() as AddressInfo).port;
      try {
        const rt = runtime({
          allowHttpHosts: [],
          resolve: async () => ["127.0.0.1"],
          ca: cert,
          maxAttempts: 1,
        });
        const owner = uuidv7();
        const tag = uuidv7();
        const good = await rt.webhooks.create(owner, {
          url: `https://hooks.test:${port}/hook?hook=${tag}`,
        });
        secrets.set(tag, good.secret);
        const job = jobSummary(owner);
        await rt.notifications.enqueueForJob({ job, recipient: null });
        expect((await deliverAll(rt, job.id)).status).toBe("sent");
        expect(tlsHits.map((h) => [h.host, h.verified])).toEqual([[`hooks.test:${port}`, true]]);

        const owner2 = uuidv7();
        await rt.webhooks.create(owner2, { url: `https://wrong.test:${port}/hook` });
        const job2 = jobSummary(owner2);
        await rt.notifications.enqueueForJob({ job: job2, recipient: null });
        const row = await deliverAll(rt, job2.id);
        expect(row.status).toBe("failed");
        expect(row.last_error).toContain("wrong.test");
        expect(row.last_error?.toLowerCase()).toContain("cert");
        expect(tlsHits).toHaveLength(1);
      } finally {
        tls.closeAllConnections();
        await new Promise<void>((resolve) => tls.close(() => resolve()));
      }
    },
  );
});
