/**
 * The in-process micro benchmarks' one timing rule: batches of at least 20 ms, best of 7,
 * in nanoseconds per call. Each result goes to a sink the caller cannot see, so no call
 * is optimised away.
 */
let sink: unknown;

export function bestNsPerCall(fn: () => unknown): number {
  const batch = (n: number) => {
    const t = performance.now();
    for (let i = 0; i < n; i++) sink = fn();
    return ((performance.now() - t) * 1e6) / n;
  };
  let n = 100;
  while (batch(n) * n < 20e6) n *= 2;
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 7; i++) best = Math.min(best, batch(n));
  return best;
}
void sink;
