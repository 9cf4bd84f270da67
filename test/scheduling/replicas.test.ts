import { describe, expect, test } from "bun:test";
import { builtinRegistry } from "../../plugins/index.ts";
import { seededRandom } from "../../src/clock.ts";
import { InFlight } from "../../src/endpoints/inflight.ts";
import type { Endpoint } from "../../src/endpoints/types.ts";
import { createScheduler } from "../../src/scheduling/framework/index.ts";
import { endpoint, fixedClock, pods, prompt, request } from "./helpers.ts";

/**
 * Two gateway replicas that share nothing (own registry, prefix index, in-flight counts,
 * and differently seeded randomness) must send the same new prompt to the same pod when
 * loads are equal, so a conversation's cache is built in one place.
 */
function replica(seed: number, config?: unknown) {
  const inflight = new InFlight();
  const s = createScheduler({
    config,
    registry: builtinRegistry(),
    inflight,
    clock: fixedClock(),
    random: seededRandom(seed),
  });
  return {
    /** Picks and sends; `finished` releases the request at once (a chat turn ends before the next). */
    pick(text: string, eps: readonly Endpoint[], finished = false): string {
      const primary = s.schedule(request({ prompt: text }), eps).endpoints[0]!;
      const slot = inflight.acquire(primary.name);
      if (finished) slot.release();
      return primary.name;
    },
  };
}

describe("replicas agree without talking", () => {
  test("same prompts, equal loads: the same pod every time, spread over the pool", () => {
    const a = replica(1);
    const b = replica(987654);
    const eps = pods(8, { kvCacheUsage: 0.3, runningRequests: 2 });
    const chosen = new Set<string>();
    for (let i = 0; i < 64; i++) {
      const text = prompt(i, 500);
      const pa = a.pick(text, eps);
      expect(b.pick(text, eps)).toBe(pa);
      chosen.add(pa);
    }
    expect(chosen.size).toBe(8);
  });

  test("control: with the random tie-break instead, replicas disagree", () => {
    const plugins = [
      { type: "queue-scorer" },
      { type: "kv-cache-utilization-scorer" },
      { type: "prefix-cache-scorer" },
      { type: "max-score-picker", parameters: { rendezvous: false } },
    ];
    const config = {
      apiVersion: "inference.networking.x-k8s.io/v1alpha1",
      kind: "EndpointPickerConfig",
      plugins,
    };
    const a = replica(1, config);
    const b = replica(987654, config);
    const eps = pods(8, { kvCacheUsage: 0.3, runningRequests: 2 });
    let same = 0;
    for (let i = 0; i < 64; i++) {
      const text = prompt(i, 500);
      if (a.pick(text, eps, true) === b.pick(text, eps, true)) same++;
    }
    expect(same).toBeLessThan(32);
  });

  test("a new conversation turn follows the first turn on both replicas", () => {
    const a = replica(2);
    const b = replica(3);
    const eps = pods(6);
    for (let c = 0; c < 10; c++) {
      const turn1 = prompt(200 + c, 256);
      const turn2 = turn1 + prompt(300 + c, 256);
      const first = a.pick(turn1, eps, true);
      expect(b.pick(turn1, eps, true)).toBe(first);
      expect(a.pick(turn2, eps, true)).toBe(first);
      expect(b.pick(turn2, eps, true)).toBe(first);
    }
  });

  test("load still wins: a busy rendezvous winner is skipped by both", () => {
    const text = prompt(42, 300);
    const idle = pods(5);
    const winner = replica(4).pick(text, idle);
    const eps = idle.map((e) => (e.name === winner ? endpoint(e.name, { waitingQueueSize: 3 }) : e));
    const a = replica(5).pick(text, eps);
    const b = replica(6).pick(text, eps);
    expect(a).not.toBe(winner);
    expect(b).toBe(a);
  });
});

describe("new prefixes get a wider deterministic tie band", () => {
  test("replicas whose load views differ agree on where a new prefix goes more often than with the narrow band", async () => {
    const { createScheduler } = await import("../../src/scheduling/framework/index.ts");
    const { seededRandom } = await import("../../src/clock.ts");
    const { defaultProfileWithPicker, endpoint, fixedClock, prompt, request } = await import("./helpers.ts");
    // Two replicas see the same queues but different KV-cache readings (scraped at
    // different moments): each one's least-used pod differs.
    const viewA = [0.3, 0.35, 0.4, 0.9].map((kv, i) =>
      endpoint(`p${i}`, { waitingQueueSize: 2, kvCacheUsage: kv }),
    );
    const viewB = [0.4, 0.3, 0.35, 0.9].map((kv, i) =>
      endpoint(`p${i}`, { waitingQueueSize: 2, kvCacheUsage: kv }),
    );
    const agreement = (newPrefixTieEpsilon: number) => {
      const config = defaultProfileWithPicker({ maxNumOfEndpoints: 3, newPrefixTieEpsilon });
      const a = createScheduler({
        config,
        registry: builtinRegistry(),
        inflight: { get: () => 0 },
        clock: fixedClock(),
        random: seededRandom(1),
      });
      const b = createScheduler({
        config,
        registry: builtinRegistry(),
        inflight: { get: () => 0 },
        clock: fixedClock(),
        random: seededRandom(2),
      });
      let agree = 0;
      for (let i = 0; i < 200; i++) {
        const r = request({ prompt: prompt(5000 + i, 400) });
        if (a.schedule(r, viewA).endpoints[0]!.name === b.schedule(r, viewB).endpoints[0]!.name) agree++;
      }
      return agree;
    };
    const narrow = agreement(0.05);
    const wide = agreement(1.0);
    expect(narrow).toBe(0); // each replica's own least-used pod
    expect(wide).toBe(200); // the three near-equal pods, hashed alike on both replicas
  });
});
