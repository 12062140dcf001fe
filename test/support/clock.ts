import type { Clock } from "../../src/platform/clock.ts";

/** A clock the test moves: `advance(ms)` jumps it forward (or back, with a negative `ms`). */
export type TestClock = Clock & { advance(ms: number): void };

/**
 * The system's time plus an offset the test moves, so what the services read keeps running with
 * the database's `now()` and the token verifier's clock, yet a rate-limit window passes at once.
 */
export function createTestClock(): TestClock {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance(ms) {
      offset += ms;
    },
  };
}
