import { describe, expect, test } from "bun:test";
import { builtinRegistry } from "../../plugins/index.ts";
import { seededRandom } from "../../src/clock.ts";
import { InFlight } from "../../src/endpoints/inflight.ts";
import type { Endpoint } from "../../src/endpoints/types.ts";
import { createScheduler } from "../../src/scheduling/framework/index.ts";
import { defaultProfileWithPicker, endpoint, fixedClock, prompt, request } from "./helpers.ts";

/**
 * A burst between two scrapes: metrics stay frozen while the gateway sends 20 requests.
 * The assumed load (in-flight since the scrape) must spread them like a water level.
 */

const V1 = "inference.networking.x-k8s.io/v1alpha1";
const RUNNING_ONLY = {
  apiVersion: V1,
  kind: "EndpointPickerConfig",
  plugins: [{ type: "running-requests-size-scorer" }, { type: "max-score-picker" }],
};

function burst(opts: {
  eps: Endpoint[];
  config?: unknown;
  acquire: boolean;
  seed?: number;
}): Map<string, number> {
  const inflight = new InFlight();
  const s = createScheduler({
    config: opts.config,
    registry: builtinRegistry(),
    inflight,
    clock: fixedClock(),
    random: seededRandom(opts.seed ?? 1),
  });
  const counts = new Map(opts.eps.map((e) => [e.name, 0]));
  for (let i = 0; i < 20; i++) {
    const [primary] = s.schedule(request({ prompt: prompt(1000 + i, 300) }), opts.eps).endpoints;
    counts.set(primary!.name, counts.get(primary!.name)! + 1);
    if (opts.acquire) inflight.acquire(primary!.name); // what the forward stage does
  }
  return counts;
}

describe("burst between two scrapes", () => {
  const uneven = [
    endpoint("q0", { waitingQueueSize: 0, kvCacheUsage: 0.2 }),
    endpoint("q2a", { waitingQueueSize: 2, kvCacheUsage: 0.2 }),
    endpoint("q2b", { waitingQueueSize: 2, kvCacheUsage: 0.2 }),
    endpoint("q4", { waitingQueueSize: 4, kvCacheUsage: 0.2 }),
  ];

  test.each([1, 2, 3])("default profile: 20 picks fill the queues level (seed %i)", (seed) => {
    const counts = burst({ eps: uneven, acquire: true, seed });
    // 8 queued + 20 sent = 28 = 7 per pod
    expect(Object.fromEntries(counts)).toEqual({ q0: 7, q2a: 5, q2b: 5, q4: 3 });
  });

  test("control: without the in-flight signal, the whole burst lands on the idlest pod", () => {
    // Load alone decides here: new prefixes' wide rendezvous band (which would also spread
    // these distinct prompts) is narrowed to the default tie band.
    const LOAD_DECIDES = defaultProfileWithPicker({ newPrefixTieEpsilon: 0.05 });
    expect(Object.fromEntries(burst({ eps: uneven, config: LOAD_DECIDES, acquire: false }))).toEqual({
      q0: 20,
      q2a: 0,
      q2b: 0,
      q4: 0,
    });
  });

  test("equal pods: 5 each", () => {
    const eps = Array.from({ length: 4 }, (_, i) =>
      endpoint(`p${i}`, { runningRequests: 3, kvCacheUsage: 0.4 }),
    );
    expect([...burst({ eps, acquire: true }).values()]).toEqual([5, 5, 5, 5]);
  });

  test("running-requests-size-scorer spreads the same way", () => {
    const eps = [0, 3, 6].map((r) => endpoint(`r${r}`, { runningRequests: r }));
    // 9 running + 20 sent = 29: levels 10/10/9 in some order, the busiest pod gets the fewest
    const counts = burst({ eps, config: RUNNING_ONLY, acquire: true });
    expect(counts.get("r0")! + 0).toBeGreaterThanOrEqual(counts.get("r3")!);
    expect(counts.get("r3")! + 3).toBeGreaterThanOrEqual(counts.get("r6")! + 6 - 1);
    const levels = [...counts].map(([n, c]) => Number(n.slice(1)) + c);
    expect(Math.max(...levels) - Math.min(...levels)).toBeLessThanOrEqual(1);
    expect([...counts.values()].every((c) => c > 0)).toBe(true);
  });
});
