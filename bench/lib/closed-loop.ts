/** Closed-loop load for the benchmarks: `clients` each send the next request when the last one ends. */
import { seededRandom } from "../../src/clock.ts";
import { type Sample, type StreamSpec, timedChat } from "./load.ts";

/**
 * Runs `clients` closed loops for `seconds` (no request is started after that), then
 * waits for the last requests to end. Bounded: at most `clients` requests at once.
 * Clients start at random times within `staggerMs`, so that with near-constant service
 * times their requests do not all end together, round after round.
 */
export async function runClosedLoop(
  url: string,
  spec: Omit<StreamSpec, "rate">,
  clients: number,
  seconds: number,
  opts: { seed?: number; staggerMs?: number } = {},
): Promise<Sample[]> {
  const seed = opts.seed ?? 1;
  const random = seededRandom(seed);
  const end = performance.now() + seconds * 1000;
  const samples: Sample[] = [];
  let i = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      await Bun.sleep(random() * (opts.staggerMs ?? 0));
      while (performance.now() < end) {
        const s = await timedChat(url, { ...spec, rate: 0 }, i++, random);
        samples.push(s);
        if (s.status !== 200) await Bun.sleep(50); // a refusal must not turn the loop into a spin
      }
    }),
  );
  return samples;
}
