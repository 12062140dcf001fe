import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { backoffDelay } from "../../src/features/notifications/delivery-dispatcher.ts";
import {
  buildJobEmail,
  escapeHtml,
  formatDuration,
  planAttachments,
} from "../../src/features/notifications/email/job-email.ts";
import type { JobSummary } from "../../src/features/notifications/job-summary.ts";
import {
  signWebhook,
  verifyWebhookSignature,
} from "../../src/features/notifications/webhooks/signature.ts";

const MiB = 1024 * 1024;
const LIMITS = { maxFiles: 5, maxBytes: 5 * MiB };
const PUBLIC = "https://pictor.example.com/";
const JOB = "019b0000-0000-7000-8000-000000000001";

const summary = (over: Partial<JobSummary> = {}): JobSummary => ({
  id: JOB,
  owner_id: "019b0000-0000-7000-8000-0000000000aa",
  kind: "transform",
  status: "succeeded",
  counts: { total: 2, succeeded: 2, failed: 0, canceled: 0 },
  started_at: "2026-01-02T10:00:00.000Z",
  finished_at: "2026-01-02T10:03:05.000Z",
  failed_items: [],
  results: [
    { id: "r1", filename: "a.webp", content_type: "image/webp", bytes: 1000 },
    { id: "r2", filename: "b.webp", content_type: "image/webp", bytes: 2000 },
  ],
  ...over,
});

describe("buildJobEmail", () => {
  test("a succeeded job: subject, counts, duration, links, attachments", () => {
    const email = buildJobEmail(summary(), { publicUrl: PUBLIC, attach: LIMITS });
    expect(email.subject).toBe("[Pictor] Transform job succeeded: 2 of 2 items succeeded");
    expect(email.text).toBe(
      [
        "Your transform job succeeded: 2 of 2 items succeeded.",
        "",
        `Job:      ${JOB}`,
        "Items:    2 total: 2 succeeded, 0 failed, 0 canceled",
        "Started:  2026-01-02T10:00:00.000Z",
        "Finished: 2026-01-02T10:03:05.000Z",
        "Duration: 3 min 05 s",
        "",
        `Link:     https://pictor.example.com/v1/jobs/${JOB}`,
        `Results:  https://pictor.example.com/v1/jobs/${JOB}/results.zip`,
        "",
        "Attached: 2 result files (a.webp, b.webp).",
        "",
        "You receive this because email notifications are on for your Pictor account.",
        "",
      ].join("\n"),
    );
    expect(email.attachments.map((a) => a.id)).toEqual(["r1", "r2"]);
    expect(email.html).toContain(`<a href="https://pictor.example.com/v1/jobs/${JOB}">`);
    expect(email.html).toContain(`href="https://pictor.example.com/v1/jobs/${JOB}/results.zip"`);
    expect(email.html).toContain("<li>a.webp (1000 B)</li>");
  });

  test("failures are listed with their reasons, escaped in HTML, capped with a link", () => {
    const failed = Array.from({ length: 4 }, (_, i) => ({
      image_id: `img-${i}`,
      filename: i === 0 ? `<img src=x onerror="alert(1)">.png` : `f${i}.png`,
      error: i === 0 ? "Expected <b>JPEG</b> & got 'junk'" : "Corrupt file",
    }));
    const email = buildJobEmail(
      summary({
        status: "partially_failed",
        counts: { total: 12, succeeded: 7, failed: 5, canceled: 0 },
        failed_items: failed,
        results: [],
      }),
      { publicUrl: PUBLIC, attach: LIMITS, maxListedFailures: 3 },
    );
    expect(email.subject).toBe(
      "[Pictor] Transform job partially failed: 7 of 12 items succeeded, 5 failed",
    );
    expect(email.text).toContain(
      `Failed items (5):\n- <img src=x onerror="alert(1)">.png (image img-0): Expected <b>JPEG</b> & got 'junk'\n- f1.png (image img-1): Corrupt file\n- f2.png (image img-2): Corrupt file\n…and 2 more: https://pictor.example.com/v1/jobs/${JOB}/items\n`,
    );
    expect(email.html).toContain(
      "<li><strong>&lt;img src=x onerror=&quot;alert(1)&quot;&gt;.png (image img-0)</strong>: Expected &lt;b&gt;JPEG&lt;/b&gt; &amp; got &#39;junk&#39;</li>",
    );
    expect(email.html).not.toContain("<b>JPEG</b>");
    expect(email.html).not.toContain('onerror="');
    // Results exist (7 succeeded) but their files are not known: link only.
    expect(email.attachments).toEqual([]);
    // Once: the line under the facts, not again at the end.
    const results = `https://pictor.example.com/v1/jobs/${JOB}/results.zip`;
    expect(email.text.split(results)).toHaveLength(2);
    expect(email.text).toContain(`Results:  ${results}`);
  });

  test("failed and canceled jobs", () => {
    const failed = buildJobEmail(
      summary({
        kind: null,
        status: "failed",
        counts: { total: 1, succeeded: 0, failed: 1, canceled: 0 },
        failed_items: [{ image_id: null, filename: null, error: "Decoder\r\nBcc: x@evil.test" }],
        results: [],
      }),
      { publicUrl: PUBLIC, attach: LIMITS },
    );
    expect(failed.subject).toBe("[Pictor] Job failed: 0 of 1 item succeeded, 1 failed");
    expect(failed.text).toContain("- an item: Decoder Bcc: x@evil.test\n");
    expect(failed.text).not.toContain("Results:");

    const canceled = buildJobEmail(
      summary({
        status: "canceled",
        counts: { total: 10, succeeded: 0, failed: 0, canceled: 10 },
        started_at: null,
        error: "Canceled by the owner",
        results: [],
      }),
      { publicUrl: PUBLIC, attach: LIMITS },
    );
    expect(canceled.subject).toBe(
      "[Pictor] Transform job was canceled: 0 of 10 items succeeded, 10 canceled",
    );
    expect(canceled.text).toContain(
      "Started:  never\nFinished: 2026-01-02T10:03:05.000Z\nDuration: not started\nReason:   Canceled by the owner\n",
    );
  });

  test("a subject cannot carry a header break", () => {
    const email = buildJobEmail(summary({ kind: "x\r\nBcc: a@b.c" }), {
      publicUrl: PUBLIC,
      attach: false,
    });
    expect(email.subject).toBe("[Pictor] X Bcc: a@b.c job succeeded: 2 of 2 items succeeded");
    expect(email.attachments).toEqual([]);
  });
});

describe("planAttachments", () => {
  const file = (bytes: number | null, i = 0) => ({
    id: `r${i}`,
    filename: `r${i}.png`,
    content_type: "image/png",
    bytes,
  });
  test("all when few and small, none otherwise", () => {
    expect(planAttachments([file(100)], LIMITS)).toHaveLength(1);
    expect(planAttachments([file(5 * MiB)], LIMITS)).toHaveLength(1);
    expect(planAttachments([file(3 * MiB, 1), file(2 * MiB + 1, 2)], LIMITS)).toEqual([]);
    expect(
      planAttachments(
        [0, 1, 2, 3, 4].map((i) => file(10, i)),
        LIMITS,
      ),
    ).toHaveLength(5);
    expect(
      planAttachments(
        [0, 1, 2, 3, 4, 5].map((i) => file(10, i)),
        LIMITS,
      ),
    ).toEqual([]);
    expect(planAttachments([file(10, 1), file(null, 2)], LIMITS)).toEqual([]);
    expect(planAttachments([], LIMITS)).toEqual([]);
    expect(planAttachments([file(10)], { maxFiles: 0, maxBytes: 100 })).toEqual([]);
  });
});

test("formatDuration and escapeHtml", () => {
  expect([850, 12_340, 59_999, 185_000, 7_380_000].map(formatDuration)).toEqual([
    "850 ms",
    "12.3 s",
    "60.0 s",
    "3 min 05 s",
    "2 h 03 min",
  ]);
  expect(escapeHtml(`<a href="x">'&'</a>`)).toBe(
    "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
  );
});

test("backoff doubles up to the cap, with equal jitter", () => {
  const top = () => 0.999999;
  const bottom = () => 0;
  expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, 1000, 60_000, top))).toEqual([
    1000, 2000, 4000, 8000, 16000,
  ]);
  expect([1, 2, 3].map((n) => backoffDelay(n, 1000, 60_000, bottom))).toEqual([500, 1000, 2000]);
  expect(backoffDelay(20, 1000, 60_000, top)).toBe(60_000);
});

describe("webhook signatures", () => {
  const secret = "whsec_test";
  const body = '{"id":"n1","type":"job.succeeded"}';

  test('the documented scheme: hex HMAC-SHA256 of "<t>.<body>"', async () => {
    const header = await signWebhook(secret, body, 1_767_225_600);
    const expected = createHmac("sha256", secret).update(`1767225600.${body}`).digest("hex");
    expect(header).toBe(`t=1767225600,v1=${expected}`);
  });

  test("verification: valid, tampered, stale, malformed, rotated", async () => {
    const now = 1_767_225_600;
    const header = await signWebhook(secret, body, now);
    expect(await verifyWebhookSignature(secret, body, header, { now: now + 10 })).toEqual({
      valid: true,
      timestamp: now,
    });
    expect(await verifyWebhookSignature(secret, `${body} `, header, { now })).toEqual({
      valid: false,
      reason: "mismatch",
    });
    expect(await verifyWebhookSignature("whsec_other", body, header, { now })).toEqual({
      valid: false,
      reason: "mismatch",
    });
    expect(await verifyWebhookSignature(secret, body, header, { now: now + 301 })).toEqual({
      valid: false,
      reason: "stale",
    });
    for (const bad of [null, "", "t=1", "v1=abc", `t=x,v1=${"0".repeat(64)}`])
      expect(await verifyWebhookSignature(secret, body, bad, { now })).toEqual({
        valid: false,
        reason: "malformed",
      });
    const [, sig] = header.split(",v1=");
    const rotated = `t=${now},v1=${"0".repeat(64)},v1=${sig}`;
    expect((await verifyWebhookSignature(secret, body, rotated, { now })).valid).toBe(true);
  });
});
