import { describe, expect, test } from "bun:test";
import { type AdmissionSettings, createImageAdmission } from "../../src/platform/admission.ts";
import type { ApiError } from "../../src/platform/api-error.ts";

const base: AdmissionSettings = {
  concurrency: 2,
  queueLimit: 3,
  perUser: 2,
  perUserQueue: 3,
  maxInflightBytes: 1000,
  computeBudgetSeconds: 0,
  windowSeconds: 60,
};

/** A task that counts as started when its work runs, and ends when told. */
function gate() {
  let open: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    open = resolve;
  });
  const task = {
    started: false,
    finish: () => open(),
    work: async () => {
      task.started = true;
      await done;
      return "ok";
    },
  };
  return task;
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (err: ApiError) => ({ status: err.status, retryAfter: err.extra.headers?.["Retry-After"] }),
  );

describe("image admission", () => {
  test("a waiting ticket's work (its read) starts only when a slot is free; a full line answers 503 at once", async () => {
    const admission = createImageAdmission(base);
    const tasks = Array.from({ length: 5 }, gate);
    const runs = tasks.map((t, i) => admission.run({ owner: `u${i}`, bytes: 10 }, t.work));
    expect(tasks.map((t) => t.started)).toEqual([true, true, false, false, false]);
    expect(await refusal(admission.run({ owner: "u9", bytes: 10 }, gate().work))).toEqual({
      status: 503,
      retryAfter: "1",
    });
    tasks[0]?.finish();
    await runs[0];
    expect(tasks.map((t) => t.started)).toEqual([true, true, true, false, false]);
    for (const t of tasks) t.finish();
    expect(await Promise.all(runs)).toEqual(Array(5).fill("ok"));
    expect(admission.stats()).toEqual({ waiting: 0, running: 0, inflightBytes: 0 });
  });

  test("one user runs at most IMAGE_WORKERS_PER_USER; others overtake them; past their share of the line 429", async () => {
    const admission = createImageAdmission({
      ...base,
      perUser: 1,
      perUserQueue: 1,
      queueLimit: 10,
    });
    const a1 = gate();
    const a2 = gate();
    const b1 = gate();
    const runs = [
      admission.run({ owner: "a", bytes: 1 }, a1.work),
      admission.run({ owner: "a", bytes: 1 }, a2.work),
      admission.run({ owner: "b", bytes: 1 }, b1.work),
    ];
    expect([a1.started, a2.started, b1.started]).toEqual([true, false, true]);
    expect(await refusal(admission.run({ owner: "a", bytes: 1 }, gate().work))).toEqual({
      status: 429,
      retryAfter: "1",
    });
    for (const t of [a1, a2, b1]) t.finish();
    await Promise.all(runs);
  });

  test("originals in flight stay under MAX_INFLIGHT_BYTES; one larger than the budget runs alone", async () => {
    const admission = createImageAdmission({ ...base, concurrency: 4, maxInflightBytes: 100 });
    const [big, small, huge] = [gate(), gate(), gate()];
    const runs = [
      admission.run({ owner: "a", bytes: 80 }, big.work),
      admission.run({ owner: "b", bytes: 30 }, small.work),
    ];
    expect([big.started, small.started]).toEqual([true, false]);
    big.finish();
    await runs[0];
    expect(small.started).toBe(true);
    small.finish();
    await runs[1];
    const alone = admission.run({ owner: "c", bytes: 500 }, huge.work);
    expect(huge.started).toBe(true);
    huge.finish();
    await alone;
  });

  test("past the compute budget a user gets 429 with the seconds left in the window", async () => {
    let now = 0;
    const admission = createImageAdmission({
      ...base,
      computeBudgetSeconds: 1,
      windowSeconds: 10,
      now: () => now,
    });
    await admission.run({ owner: "a", bytes: 1 }, async () => {
      now += 1500;
    });
    expect(await refusal(admission.run({ owner: "a", bytes: 1 }, async () => {}))).toEqual({
      status: 429,
      retryAfter: "9",
    });
    // Another user has a budget of their own, and the next window a fresh one.
    await admission.run({ owner: "b", bytes: 1 }, async () => {});
    now = 10_001;
    await admission.run({ owner: "a", bytes: 1 }, async () => {});
  });

  test("close refuses the waiting with 503; their work never runs", async () => {
    const admission = createImageAdmission({ ...base, concurrency: 1 });
    const running = gate();
    const waiting = gate();
    const first = admission.run({ owner: "a", bytes: 1 }, running.work);
    const second = refusal(admission.run({ owner: "b", bytes: 1 }, waiting.work));
    admission.close();
    expect(await second).toEqual({ status: 503, retryAfter: "1" });
    expect(waiting.started).toBe(false);
    running.finish();
    expect(await first).toBe("ok");
  });
});
