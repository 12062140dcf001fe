/**
 * The time, as a port: what reads it takes a Clock instead of calling Date.now(), so the tests
 * move their clock past a window or an expiry instead of sleeping through it.
 */
export interface Clock {
  /** Milliseconds since the epoch, as Date.now(). */
  now(): number;
}

/** The system's clock. */
export const systemClock: Clock = { now: () => Date.now() };
