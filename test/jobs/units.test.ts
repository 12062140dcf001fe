import { describe, expect, test } from "bun:test";
import { jobTopology } from "../../src/adapters/rabbitmq/amqp.ts";
import { ConfigError, loadConfig } from "../../src/config/config.ts";
import { kindOf, TaskSpecSchema } from "../../src/core/pipeline/task-spec.ts";
import { createMessageSigner } from "../../src/features/jobs/message-signing.ts";
import { retryDelay } from "../../src/features/jobs/retry-policy.ts";

const SECRET = "unit-test-secret-0123456789abcdef0123";
const ref = {
  item_id: "01a210b5-ab74-7030-b1e4-edec6ecab4eb",
  job_id: "01a210b5-ab74-7000-85de-6ccd07621c12",
  attempt: 1,
};
const decode = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b));
const encode = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

describe("message signing", () => {
  test("a signed message carries ids, attempt, time and an HMAC, and verifies", async () => {
    const signer = await createMessageSigner(SECRET, 60_000);
    const body = await signer.sign(ref, 1_700_000_000_000);
    const message = decode(body);
    expect(Object.keys(message).sort()).toEqual([
      "attempt",
      "issued_at",
      "item_id",
      "job_id",
      "sig",
    ]);
    expect(message.sig).toMatch(/^[0-9a-f]{64}$/);
    expect(await signer.verify(body, 1_700_000_030_000)).toEqual({
      ok: true,
      message: { ...ref, issued_at: 1_700_000_000_000, sig: message.sig },
    });
  });

  test("the HMAC is over the canonical JSON: key order does not matter, any change does", async () => {
    const signer = await createMessageSigner(SECRET, 60_000);
    const now = 1_700_000_000_000;
    const m = decode(await signer.sign(ref, now));
    const reordered = {
      sig: m.sig,
      issued_at: m.issued_at,
      attempt: m.attempt,
      job_id: m.job_id,
      item_id: m.item_id,
    };
    expect((await signer.verify(encode(reordered), now)).ok).toBe(true);
    for (const change of [
      { attempt: 2 },
      { item_id: ref.job_id },
      { issued_at: now + 1 },
      { sig: "0".repeat(64) },
    ]) {
      expect(await signer.verify(encode({ ...m, ...change }), now)).toEqual({
        ok: false,
        reason: "forged",
      });
    }
  });

  test("unsigned, malformed, stale and future messages are refused, each with its reason", async () => {
    const signer = await createMessageSigner(SECRET, 60_000);
    const now = 1_700_000_000_000;
    const other = await createMessageSigner("another-secret-0123456789abcdef012345", 60_000);
    const cases: [Uint8Array, string][] = [
      [encode({ ...ref, issued_at: now }), "unsigned"],
      [await other.sign(ref, now), "forged"],
      [await signer.sign(ref, now - 60_001), "stale"],
      [await signer.sign(ref, now + 120_000), "from the future"],
      [new TextEncoder().encode("{"), "malformed"],
      [new Uint8Array([0xff, 0xfe]), "malformed"],
      [encode({ ...decode(await signer.sign(ref, now)), extra: 1 }), "malformed"],
      [encode({ ...decode(await signer.sign(ref, now)), item_id: "x" }), "malformed"],
    ];
    for (const [body, reason] of cases) {
      expect(await signer.verify(body, now)).toEqual({ ok: false, reason } as never);
    }
    // A message at the edge of its age still verifies.
    expect((await signer.verify(await signer.sign(ref, now - 60_000), now)).ok).toBe(true);
  });
});

describe("task spec", () => {
  test("exactly one of transform, histogram, segmentation, validated by the routes' schemas", () => {
    const thumb = TaskSpecSchema.parse({
      transform: { operations: [{ op: "resize", width: 100 }], format: "webp", quality: 70 },
    });
    expect(kindOf(thumb)).toBe("transform");
    expect(thumb).toMatchObject({
      transform: {
        operations: [{ op: "resize", width: 100, fit: "cover", kernel: "lanczos3" }],
        format: "webp",
        quality: 70,
        autoOrient: true,
      },
    });
    expect(TaskSpecSchema.parse({ histogram: {} })).toEqual({
      histogram: { space: "rgb", bins: 256 },
    });
    const seg = TaskSpecSchema.parse({ segmentation: { method: "otsu" } });
    expect(kindOf(seg)).toBe("segmentation");
  });

  test("errors name the field, its range and the value", () => {
    const messages = (v: unknown) => {
      const r = TaskSpecSchema.safeParse(v);
      return r.success ? [] : r.error.issues.map((i) => i.message);
    };
    expect(messages({ histogram: { bins: 0 } })).toEqual([
      "Expected an integer between 1 and 256 for bins but received 0",
    ]);
    expect(messages({})).toEqual([
      "Expected task to have exactly one of transform, histogram, segmentation but received none",
    ]);
    expect(messages({ histogram: {}, segmentation: { method: "otsu" } })).toEqual([
      "Expected task to have exactly one of transform, histogram, segmentation but received histogram and segmentation",
    ]);
    expect(messages({ palette: {} })).toEqual([
      "Expected task to have exactly one of transform, histogram, segmentation but received palette",
    ]);
    expect(messages({ transform: { quality: 0 } })).toEqual([
      "Expected an integer between 1 and 100 for quality but received 0",
    ]);
  });
});

describe("retries and queues", () => {
  test("backoff doubles per attempt, one delay queue per step", () => {
    expect([1, 2, 3, 4].map((a) => retryDelay(a, 1000))).toEqual([1000, 2000, 4000, 8000]);
    expect(jobTopology("pictor", 4, 500)).toEqual({
      work: "pictor.work",
      dead: "pictor.dead",
      retry: [
        { queue: "pictor.retry.500ms", delayMs: 500 },
        { queue: "pictor.retry.1000ms", delayMs: 1000 },
        { queue: "pictor.retry.2000ms", delayMs: 2000 },
      ],
    });
    expect(jobTopology("p", 1, 500).retry).toEqual([]);
  });
});

describe("job configuration", () => {
  test("defaults: in-process, 3 attempts, concurrency = IMAGE_WORKERS, a throwaway secret", () => {
    const { jobs } = loadConfig({ IMAGE_WORKERS: "3" });
    expect(jobs).toMatchObject({
      amqpUrl: undefined,
      queuePrefix: "pictor",
      maxAttempts: 3,
      concurrency: 3,
      retryBaseMs: 1000,
      leaseMs: 60_000,
      pollMs: 500,
      messageMaxAgeMs: 86_400_000,
    });
    expect(jobs.workerSecret.length).toBeGreaterThanOrEqual(32);
    expect(loadConfig({}).jobs.workerSecret).not.toBe(jobs.workerSecret);
  });

  test("AMQP_URL needs a WORKER_SECRET of 32+ characters, which is never echoed", () => {
    expect(() => loadConfig({ AMQP_URL: "amqp://localhost" })).toThrow(
      "WORKER_SECRET: Expected a secret of at least 32 characters when AMQP_URL is set",
    );
    let message = "";
    try {
      loadConfig({ AMQP_URL: "amqp://localhost", WORKER_SECRET: "short-secret" });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toContain("WORKER_SECRET: Expected at least 32 characters for WORKER_SECRET");
    expect(message).not.toContain("short-secret");
    const ok = loadConfig({
      AMQP_URL: "amqps://user:pw@broker:5671/vhost",
      WORKER_SECRET: "x".repeat(32),
      JOB_CONCURRENCY: "8",
      JOB_MAX_ATTEMPTS: "5",
      AMQP_QUEUE_PREFIX: "prod.jobs",
    });
    expect(ok.jobs).toMatchObject({
      amqpUrl: "amqps://user:pw@broker:5671/vhost",
      workerSecret: "x".repeat(32),
      concurrency: 8,
      maxAttempts: 5,
      queuePrefix: "prod.jobs",
    });
  });

  test("out-of-range values name the variable and range", () => {
    expect(() => loadConfig({ JOB_MAX_ATTEMPTS: "0" })).toThrow(
      "JOB_MAX_ATTEMPTS: Expected an integer between 1 and 20 for JOB_MAX_ATTEMPTS",
    );
    expect(() => loadConfig({ JOB_CONCURRENCY: "300" })).toThrow(
      "JOB_CONCURRENCY: Expected an integer between 1 and 256 for JOB_CONCURRENCY",
    );
    expect(() => loadConfig({ AMQP_URL: "http://x" })).toThrow(
      "AMQP_URL: Expected an amqp:// or amqps:// URL for AMQP_URL",
    );
    expect(() => loadConfig({ AMQP_QUEUE_PREFIX: "no spaces" })).toThrow(
      "AMQP_QUEUE_PREFIX: Expected 1–100 of A–Z a–z 0–9 . _ - for AMQP_QUEUE_PREFIX",
    );
  });
});
