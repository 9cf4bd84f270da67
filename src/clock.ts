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

/**
 * A timer armed by `arm`: the runtime's own timer when `setTimer` is `systemTimer`, else the
 * injected timer's cancel function. `disarm` cancels either.
 */
export type Armed = ReturnType<typeof setTimeout> | (() => void);

/**
 * `setTimer(fn, ms)`, but with `systemTimer` the runtime's timer itself is kept, so a hot
 * path's timer costs no cancel closure and its scope (two per request: the body read's and
 * the attempt's; issue 19, tenth pass). Injected timers (tests) are called as before.
 */
export function arm(setTimer: SetTimer, fn: () => void, ms: number): Armed {
  return setTimer === systemTimer ? setTimeout(fn, ms) : setTimer(fn, ms);
}

/** Cancels what `arm` armed. */
export function disarm(armed: Armed): void {
  if (typeof armed === "function") armed();
  else clearTimeout(armed);
}

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
