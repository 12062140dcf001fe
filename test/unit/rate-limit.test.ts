import { describe, expect, test } from "bun:test";
import { createMemoryRateLimiter, noopRateLimiter } from "../../src/platform/rate-limiter.ts";

describe("memory rate limiter", () => {
  test("allows `limit` per window per key, says when to retry, and recovers after the window", async () => {
    let now = 1_000_000;
    const limiter = createMemoryRateLimiter({ limit: 2, windowMs: 10_000, now: () => now });
    expect(await limiter.take("a")).toEqual({ allowed: true, remaining: 1 });
    now += 2500;
    expect(await limiter.take("a")).toEqual({ allowed: true, remaining: 0 });
    expect(await limiter.take("a")).toEqual({ allowed: false, retryAfterSeconds: 8 });
    expect(await limiter.take("b")).toEqual({ allowed: true, remaining: 1 });
    now += 7499;
    expect(await limiter.take("a")).toEqual({ allowed: false, retryAfterSeconds: 1 });
    now += 1;
    expect(await limiter.take("a")).toEqual({ allowed: true, remaining: 1 });
  });

  test("expired windows are swept: many one-off keys do not stop the limiter from working", async () => {
    let now = 0;
    const limiter = createMemoryRateLimiter({ limit: 1, windowMs: 1000, now: () => now });
    for (let i = 0; i < 5000; i++) await limiter.take(`key-${i}`);
    now += 1000;
    for (let i = 0; i < 5000; i++) {
      expect((await limiter.take(`key-${i}`)).allowed).toBe(true);
    }
    expect((await limiter.take("key-0")).allowed).toBe(false);
  });

  test("the noop limiter lets everything through", async () => {
    for (let i = 0; i < 3; i++) expect((await noopRateLimiter.take("x")).allowed).toBe(true);
  });
});
