import type { FakeTime } from "../helpers/fake-time.ts";

/**
 * Moves fake time 1 ms at a time until every promise has settled; returns the fake
 * milliseconds each took. Simulated latencies are then exact, whatever the machine's load.
 * Throws if they have not settled within `limitMs` of fake time.
 */
export async function fakeDurations(
  time: FakeTime,
  work: Promise<unknown>[],
  limitMs = 100_000,
): Promise<number[]> {
  const took: (number | undefined)[] = work.map(() => undefined);
  let elapsed = 0;
  for (const [i, p] of work.entries()) {
    const done = () => {
      took[i] = elapsed;
    };
    p.then(done, done);
  }
  await time.advanceAsync(0);
  while (took.some((t) => t === undefined)) {
    if (elapsed >= limitMs) throw new Error(`not settled within ${limitMs} fake ms`);
    await time.advanceAsync(1);
    elapsed++;
  }
  return took as number[];
}
