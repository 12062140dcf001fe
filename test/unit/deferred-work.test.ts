import { describe, expect, test } from "bun:test";
import { createDeferredWork } from "../../src/platform/deferred-work.ts";
import type { LogFields } from "../../src/platform/logger.ts";

function recordingLogger() {
  const warnings: [string, LogFields | undefined][] = [];
  const ignore = () => {};
  return {
    warnings,
    logger: {
      debug: ignore,
      info: ignore,
      warn: (msg: string, fields?: LogFields) => void warnings.push([msg, fields]),
      error: ignore,
    },
  };
}

describe("deferred work", () => {
  test("runs at once, and drain waits for it and for what it deferred meanwhile", async () => {
    const { logger } = recordingLogger();
    const deferred = createDeferredWork(logger);
    const done: string[] = [];
    deferred.defer("first", async () => {
      await Bun.sleep(30);
      done.push("first");
      deferred.defer("second", async () => {
        await Bun.sleep(30);
        done.push("second");
      });
    });
    expect(done).toEqual([]);
    await deferred.drain();
    expect(done).toEqual(["first", "second"]);
  });

  test("waits startAfterMs before it starts; drain waits for work not started yet", async () => {
    const { logger } = recordingLogger();
    const deferred = createDeferredWork(logger, { startAfterMs: 50 });
    let startedAt = 0;
    const deferredAt = performance.now();
    deferred.defer("late", async () => {
      startedAt = performance.now();
    });
    await deferred.drain();
    // Timers may fire a millisecond early; never much earlier.
    expect(startedAt - deferredAt).toBeGreaterThanOrEqual(45);
  });

  test("a failure is logged with what failed, never thrown", async () => {
    const { logger, warnings } = recordingLogger();
    const deferred = createDeferredWork(logger);
    deferred.defer("render cache write", async () => {
      throw new Error("connection closed");
    });
    await deferred.drain();
    expect(warnings).toEqual([["render cache write failed", { error: "connection closed" }]]);
  });
});
