/** Injected time and randomness, so tests can fix both. */

export interface Clock {
  /** Milliseconds, monotonic within a process (performance.now() in production). */
  now(): number;
}

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

export const systemClock: Clock = { now: () => performance.now() };

export const systemRandom: Random = Math.random;

/**
 * Schedules `fn` after `ms`; returns a function that cancels it. Every module that waits
 * (passive health, relay timeouts, attempts, scraper, shutdown) takes one, so tests can
 * drive time with a fake (test/helpers/fake-time.ts) instead of sleeping.
 */
export type SetTimer = (fn: () => void, ms: number) => () => void;

/** Real timers (setTimeout/clearTimeout). */
export const systemTimer: SetTimer = (fn, ms) => {
  const id = setTimeout(fn, ms);
  return () => clearTimeout(id);
};

/** Mulberry32: a tiny, fast, seedable PRNG; good enough for tie-breaks, splits and tests. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
