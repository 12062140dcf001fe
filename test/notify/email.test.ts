import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { NotificationSettings } from "../../src/config/config.ts";
import { uuidv7 } from "../../src/core/lib/uuid.ts";
import { createOutboxMailer } from "../../src/features/notifications/email/outbox-mailer.ts";
import type { JobResultFile } from "../../src/features/notifications/job-summary.ts";
import type { NotificationRecord } from "../../src/features/notifications/notification-service.ts";
import {
  createNotificationsRuntime,
  type NotificationsRuntime,
} from "../../src/wiring/notification-runtime.ts";
import { describeEachDatabase } from "../support/database.ts";
import {
  captureLogger,
  freePort,
  jobSummary,
  PUBLIC_URL,
  startSmtpServer,
  type TestSmtpServer,
  waitFor,
} from "./support.ts";

const FIXTURES = join(import.meta.dir, "../fixtures/generated");
const MiB = 1024 * 1024;

const result = (file: string, type: string, bytes: number | null): JobResultFile => ({
  id: file,
  filename: file,
  content_type: type,
  bytes,
});

describeEachDatabase("email notifications", (ctx) => {
  let smtp: TestSmtpServer;
  const runtimes: NotificationsRuntime[] = [];
  const reads: string[] = [];

  beforeAll(async () => {
    smtp = await startSmtpServer(0, { reject: ["nobody@example.com"] });
  });
  afterAll(async () => {
    for (const rt of runtimes) await rt.close();
    await smtp.close();
  });

  function runtime(over: Partial<NotificationSettings> = {}, smtpPort: number | null = smtp.port) {
    const { logger, lines } = captureLogger();
    const rt = createNotificationsRuntime({
      db: ctx().db,
      logger,
      publicUrl: PUBLIC_URL,
      settings: {
        smtpUrl: smtpPort === null ? undefined : `smtp://127.0.0.1:${smtpPort}`,
        mailFrom: "Pictor <pictor@pictor.test>",
        maxAttempts: 5,
        backoffMs: 50,
        backoffMaxMs: 400,
        timeoutMs: 3000,
        pollMs: 20,
        attachMaxFiles: 5,
        attachMaxBytes: 5 * MiB,
        ...over,
      },
      webhooks: { allowHttpHosts: [], allowPrivate: [] },
      async readResult(_job, file) {
        reads.push(file.id);
        return new Uint8Array(await readFile(join(FIXTURES, file.id)));
      },
    });
    runtimes.push(rt);
    return { rt, lines };
  }

  const mailsTo = (server: TestSmtpServer, to: string) =>
    server.received.filter((m) => m.envelopeTo.includes(to));

  const only = async (rt: NotificationsRuntime, jobId: string): Promise<NotificationRecord> => {
    const rows = await rt.notifications.listForJob(jobId);
    expect(rows).toHaveLength(1);
    return rows[0] as NotificationRecord;
  };

  test("a finished job sends exactly one email: recipient, subject, counts, links, small results attached", async () => {
    const { rt } = runtime();
    const { rt: other } = runtime();
    const to = `ada-${ctx().db.kind}@example.com`;
    const job = jobSummary(uuidv7(), {
      results: [
        result("landscape-240.webp", "image/webp", 8328),
        result("landscape-300.avif", "image/avif", 5994),
      ],
    });

    const created = await rt.notifications.enqueueForJob({ job, recipient: to });
    expect(created.map((n) => [n.channel, n.target, n.event, n.status, n.attempts])).toEqual([
      ["email", to, "job.succeeded", "pending", 0],
    ]);
    // The "job finished" report arrives again (a redelivered message, a restarted worker).
    expect(await rt.notifications.enqueueForJob({ job, recipient: to })).toEqual([]);

    // Two dispatchers race for it: one claims it, the other finds nothing.
    const counts = await Promise.all([rt.dispatcher.runOnce(), other.dispatcher.runOnce()]);
    expect(counts.sort()).toEqual([0, 1]);
    expect(await rt.dispatcher.runOnce()).toBe(0);

    const mails = mailsTo(smtp, to);
    expect(mails).toHaveLength(1);
    const { mail } = mails[0] as (typeof mails)[number];
    expect(mail.subject).toBe("[Pictor] Transform job succeeded: 2 of 2 items succeeded");
    expect(mail.from?.text).toBe('"Pictor" <pictor@pictor.test>');
    expect(mail.messageId).toBe(`<${created[0]?.id}@pictor.test>`);
    expect(mail.text).toContain("Items:    2 total: 2 succeeded, 0 failed, 0 canceled");
    expect(mail.text).toContain("Duration: 42.5 s");
    expect(mail.text).toContain(`Link:     https://pictor.test/v1/jobs/${job.id}\n`);
    expect(mail.text).toContain(`Results:  https://pictor.test/v1/jobs/${job.id}/results.zip\n`);
    expect(mail.html).toContain(`<a href="https://pictor.test/v1/jobs/${job.id}/results.zip">`);
    expect(mail.attachments.map((a) => [a.filename, a.contentType, a.size])).toEqual([
      ["landscape-240.webp", "image/webp", 8328],
      ["landscape-300.avif", "image/avif", 5994],
    ]);
    const original = await readFile(join(FIXTURES, "landscape-240.webp"));
    expect(Buffer.compare(mail.attachments[0]?.content as Buffer, original)).toBe(0);

    const row = await only(rt, job.id);
    expect([row.status, row.attempts, row.last_error, row.next_attempt_at]).toEqual([
      "sent",
      1,
      null,
      null,
    ]);
    expect(Date.parse(row.sent_at ?? "")).toBeGreaterThan(Date.now() - 60_000);
  });

  test("many or large results are linked, never attached (and not even read)", async () => {
    const { rt } = runtime();
    const to = `many-${ctx().db.kind}@example.com`;
    const six = [1, 2, 3, 4, 5, 6].map((i) => result(`r${i}.webp`, "image/webp", 100));
    const big = [result("huge.png", "image/png", 6 * MiB)];
    const jobs = [six, big].map((results) => jobSummary(uuidv7(), { results }));
    reads.length = 0;
    for (const job of jobs) await rt.notifications.enqueueForJob({ job, recipient: to });
    expect(await rt.dispatcher.runOnce()).toBe(2);

    const mails = mailsTo(smtp, to);
    expect(mails).toHaveLength(2);
    for (const { mail } of mails) {
      expect(mail.attachments).toHaveLength(0);
      expect(mail.text).toMatch(
        /Results: {2}https:\/\/pictor\.test\/v1\/jobs\/[0-9a-f-]{36}\/results\.zip/,
      );
      expect(mail.text?.match(/results\.zip/g)).toHaveLength(1);
    }
    expect(reads).toEqual([]);
  });

  test("results of unknown size (histogram JSON, masks) are read to learn it, then attached under the same limits", async () => {
    const { rt } = runtime({ attachMaxBytes: 20_000 });
    const to = `unsized-${ctx().db.kind}@example.com`;
    const fits = jobSummary(uuidv7(), {
      results: [
        result("landscape-240.webp", "image/webp", null),
        result("landscape-300.avif", "image/avif", 5994),
      ],
    });
    // 5994 known, then 8328 + 15 044 learnt: past 20 000 before the known file is read.
    const over = jobSummary(uuidv7(), {
      results: [
        result("landscape-300.avif", "image/avif", 5994),
        result("landscape-240.webp", "image/webp", null),
        result("landscape-120-lossless.webp", "image/webp", null),
      ],
    });
    await rt.notifications.enqueueForJob({ job: fits, recipient: to });
    expect(await rt.dispatcher.runOnce()).toBe(1);
    const [attached] = mailsTo(smtp, to);
    expect(attached?.mail.attachments.map((a) => [a.filename, a.size])).toEqual([
      ["landscape-240.webp", 8328],
      ["landscape-300.avif", 5994],
    ]);
    expect(attached?.mail.text).toContain(
      "Attached: 2 result files (landscape-240.webp, landscape-300.avif).",
    );
    expect(attached?.mail.html).toContain("<li>landscape-240.webp (8.1 KiB)</li>");

    reads.length = 0;
    await rt.notifications.enqueueForJob({ job: over, recipient: to });
    expect(await rt.dispatcher.runOnce()).toBe(1);
    const linked = mailsTo(smtp, to)[1]?.mail;
    expect(linked?.attachments).toHaveLength(0);
    expect(linked?.text).toContain(
      `Results:  https://pictor.test/v1/jobs/${over.id}/results.zip\n`,
    );
    // The file of known size was never read: the unknown ones already passed the limit.
    expect(reads).toEqual(["landscape-240.webp", "landscape-120-lossless.webp"]);
  });

  test("a partial failure lists the failed items and their reasons, escaped in HTML", async () => {
    const { rt } = runtime();
    const to = `partial-${ctx().db.kind}@example.com`;
    const job = jobSummary(uuidv7(), {
      status: "partially_failed",
      counts: { total: 3, succeeded: 1, failed: 2, canceled: 0 },
      failed_items: [
        {
          image_id: "019b0000-0000-7000-8000-00000000000a",
          filename: "cat.jpg",
          error: "Corrupt JPEG: no end-of-image marker",
        },
        { image_id: null, filename: "<script>x</script>.png", error: "Expected <PNG> & got junk" },
      ],
    });
    await rt.notifications.enqueueForJob({ job, recipient: to });
    await rt.dispatcher.runOnce();
    const [received] = mailsTo(smtp, to);
    const mail = received?.mail;
    expect(mail?.subject).toBe(
      "[Pictor] Transform job partially failed: 1 of 3 items succeeded, 2 failed",
    );
    expect(mail?.text).toContain(
      "Failed items (2):\n- cat.jpg (image 019b0000-0000-7000-8000-00000000000a): Corrupt JPEG: no end-of-image marker\n- <script>x</script>.png: Expected <PNG> & got junk\n",
    );
    expect(mail?.html).toContain(
      "<li><strong>&lt;script&gt;x&lt;/script&gt;.png</strong>: Expected &lt;PNG&gt; &amp; got junk</li>",
    );
    expect(mail?.html).not.toContain("<script>");
  });

  test("preferences: never sends nothing, failure only for failures, a job's notify wins", async () => {
    const { rt } = runtime();
    const owner = uuidv7();
    const to = `prefs-${ctx().db.kind}@example.com`;
    expect(await rt.notifications.getPreferences(owner)).toEqual({ email: "always" });

    expect(await rt.notifications.updatePreferences(owner, { email: "never" })).toEqual({
      email: "never",
    });
    const quiet = jobSummary(owner, { status: "failed" });
    expect(await rt.notifications.enqueueForJob({ job: quiet, recipient: to })).toEqual([]);
    expect(await rt.dispatcher.runOnce()).toBe(0);
    expect(await rt.notifications.listForJob(quiet.id)).toEqual([]);

    await rt.notifications.updatePreferences(owner, { email: "failure" });
    const ok = jobSummary(owner);
    const bad = jobSummary(owner, {
      status: "failed",
      counts: { total: 2, succeeded: 0, failed: 2, canceled: 0 },
    });
    const canceled = jobSummary(owner, { status: "canceled" });
    expect(await rt.notifications.enqueueForJob({ job: ok, recipient: to })).toEqual([]);
    expect(await rt.notifications.enqueueForJob({ job: canceled, recipient: to })).toEqual([]);
    expect(await rt.notifications.enqueueForJob({ job: bad, recipient: to })).toHaveLength(1);

    await rt.notifications.updatePreferences(owner, { email: "never" });
    const forced = jobSummary(owner);
    expect(
      await rt.notifications.enqueueForJob({ job: forced, recipient: to, notify: "always" }),
    ).toHaveLength(1);
    const muted = jobSummary(uuidv7());
    expect(
      await rt.notifications.enqueueForJob({ job: muted, recipient: to, notify: "never" }),
    ).toEqual([]);

    expect(await rt.dispatcher.runOnce()).toBe(2);
    expect(mailsTo(smtp, to).map((m) => m.mail.subject)).toEqual([
      "[Pictor] Transform job failed: 0 of 2 items succeeded, 2 failed",
      "[Pictor] Transform job succeeded: 2 of 2 items succeeded",
    ]);
    await expect(
      rt.notifications.updatePreferences(owner, { email: "sometimes" as "never" }),
    ).rejects.toThrow("Expected one of always, failure, never for email but received sometimes");
  });

  test("SMTP down: the job is not held up; the email is retried with backoff and arrives once the server is back", async () => {
    const port = await freePort();
    const { rt, lines } = runtime({ maxAttempts: 10, backoffMs: 100, backoffMaxMs: 800 }, port);
    const to = `later-${ctx().db.kind}@example.com`;
    const job = jobSummary(uuidv7());
    rt.dispatcher.start();

    const started = performance.now();
    await rt.notifications.enqueueForJob({ job, recipient: to });
    // Enqueueing is one insert: a dead mail server cannot slow down the job that finished.
    expect(performance.now() - started).toBeLessThan(1000);

    const failing = await waitFor("three failed attempts", async () => {
      const row = await only(rt, job.id);
      return row.attempts >= 3 && row.status === "pending" ? row : null;
    });
    expect(failing.last_error).toMatch(/ECONNREFUSED 127\.0\.0\.1:\d+/);
    const retries = lines
      .map((l) => JSON.parse(l) as { msg: string; attempt?: number; retry_in_ms?: number })
      .filter((l) => l.msg === "notification will be retried")
      .slice(0, 3);
    // Equal jitter: attempt n waits between half and all of 100 ms × 2^(n-1).
    for (const r of retries) {
      const full = 100 * 2 ** ((r.attempt ?? 0) - 1);
      expect(r.retry_in_ms).toBeGreaterThanOrEqual(full / 2);
      expect(r.retry_in_ms).toBeLessThanOrEqual(full);
    }
    expect(retries.map((r) => r.attempt)).toEqual([1, 2, 3]);

    const back = await startSmtpServer(port);
    try {
      const sent = await waitFor("the email to be sent", async () => {
        const row = await only(rt, job.id);
        return row.status === "sent" ? row : null;
      });
      expect(sent.attempts).toBeGreaterThanOrEqual(4);
      expect(sent.last_error).toBeNull();
      await rt.dispatcher.stop();
      expect(mailsTo(back, to)).toHaveLength(1);
      expect(mailsTo(back, to)[0]?.mail.subject).toBe(
        "[Pictor] Transform job succeeded: 2 of 2 items succeeded",
      );
    } finally {
      await back.close();
    }
  });

  test("after the maximum attempts the email is marked failed with the SMTP error", async () => {
    const port = await freePort();
    const { rt } = runtime({ maxAttempts: 3, backoffMs: 20, backoffMaxMs: 40 }, port);
    const job = jobSummary(uuidv7());
    await rt.notifications.enqueueForJob({ job, recipient: `never-${ctx().db.kind}@example.com` });
    rt.dispatcher.start();
    const failed = await waitFor("the email to fail", async () => {
      const row = await only(rt, job.id);
      return row.status === "failed" ? row : null;
    });
    await Bun.sleep(150);
    await rt.dispatcher.stop();
    const row = await only(rt, job.id);
    expect([row.status, row.attempts, row.next_attempt_at]).toEqual(["failed", 3, null]);
    expect(failed.last_error).toMatch(/^ESOCKET connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
  });

  test("a recipient the server refuses (550) fails at once, without retries", async () => {
    const { rt } = runtime();
    const job = jobSummary(uuidv7());
    await rt.notifications.enqueueForJob({ job, recipient: "nobody@example.com" });
    await rt.dispatcher.runOnce();
    const row = await only(rt, job.id);
    expect([row.status, row.attempts]).toEqual(["failed", 1]);
    expect(row.last_error).toContain("550 Mailbox unavailable");
  });

  test("a dispatcher that died mid-send: its lease expires and another one delivers", async () => {
    const { rt } = runtime({ maxAttempts: 2 });
    const { sql } = ctx().db;
    const to = `lease-${ctx().db.kind}@example.com`;
    const crashed = jobSummary(uuidv7());
    const exhausted = jobSummary(uuidv7());
    await rt.notifications.enqueueForJob({ job: crashed, recipient: to });
    await rt.notifications.enqueueForJob({ job: exhausted, recipient: to });
    // What a claim leaves behind when its process is killed before recording the outcome.
    await sql`UPDATE notifications SET status = 'sending', attempts = 1,
                lease_until = now() - interval '1 second' WHERE job_id = ${crashed.id}`;
    await sql`UPDATE notifications SET status = 'sending', attempts = 2,
                lease_until = now() - interval '1 second' WHERE job_id = ${exhausted.id}`;
    expect(await rt.dispatcher.runOnce()).toBe(1);
    const resumed = await only(rt, crashed.id);
    expect([resumed.status, resumed.attempts]).toEqual(["sent", 2]);
    const given = await only(rt, exhausted.id);
    expect([given.status, given.attempts, given.last_error]).toEqual([
      "failed",
      2,
      "Delivery interrupted (the sending process stopped) on the last attempt",
    ]);
    expect(mailsTo(smtp, to)).toHaveLength(1);

    // A lease not yet expired is left alone: its holder may still be sending.
    const held = jobSummary(uuidv7());
    await rt.notifications.enqueueForJob({ job: held, recipient: to });
    await sql`UPDATE notifications SET status = 'sending', attempts = 1,
                lease_until = now() + interval '1 minute' WHERE job_id = ${held.id}`;
    expect(await rt.dispatcher.runOnce()).toBe(0);
  });

  test("without SMTP_URL emails go to the outbox and the log", async () => {
    const { rt, lines } = runtime({}, null);
    expect(rt.mailer.kind).toBe("outbox");
    const owner = uuidv7();
    const to = `outbox-${ctx().db.kind}@example.com`;
    const job = jobSummary(owner, {
      results: [result("landscape-300.avif", "image/avif", 5994)],
    });
    const [created] = await rt.notifications.enqueueForJob({ job, recipient: to });
    expect(await rt.dispatcher.runOnce()).toBe(1);

    const page = await rt.notifications.listOutbox(owner, { limit: 10 });
    expect(page.next_cursor).toBeNull();
    expect(page.items).toHaveLength(1);
    const entry = page.items[0];
    expect(entry?.to).toBe(to);
    expect(entry?.from).toBe("Pictor <pictor@pictor.test>");
    expect(entry?.subject).toBe("[Pictor] Transform job succeeded: 2 of 2 items succeeded");
    expect(entry?.message_id).toBe(`<${created?.id}@pictor.test>`);
    expect(entry?.notification_id).toBe(created?.id ?? "");
    expect(entry?.attachments).toEqual([
      { filename: "landscape-300.avif", content_type: "image/avif", bytes: 5994 },
    ]);
    expect(entry?.text).toContain(`https://pictor.test/v1/jobs/${job.id}/results.zip`);
    expect(entry?.html).toContain("<!doctype html>");
    // Written down, not sent: the job says so.
    expect((await only(rt, job.id)).status).toBe("outboxed");
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged).toContainEqual(
      expect.objectContaining({
        msg: "email written to the outbox (SMTP_URL is not set)",
        to,
        attachments: 1,
      }),
    );
    expect(mailsTo(smtp, to)).toEqual([]);
    expect((await rt.notifications.listOutbox(uuidv7(), { limit: 10 })).items).toEqual([]);

    // The same message handed over twice (a retry after a crash) is written once.
    const outbox = createOutboxMailer({
      sql: ctx().db.sql,
      logger: captureLogger().logger,
      from: "x@y.z",
    });
    const twice = {
      to,
      subject: "s",
      text: "t",
      html: "h",
      messageId: "<dup@pictor.test>",
      ownerId: owner,
    };
    await outbox.send(twice);
    await outbox.send(twice);
    const after = await rt.notifications.listOutbox(owner, { limit: 1 });
    expect(after.items.map((i) => i.message_id)).toEqual(["<dup@pictor.test>"]);
    expect(after.next_cursor).not.toBeNull();
    const rest = await rt.notifications.listOutbox(owner, {
      limit: 10,
      cursor: after.next_cursor ?? "",
    });
    expect(rest.items.map((i) => i.message_id)).toEqual([`<${created?.id}@pictor.test>`]);
  });
});
