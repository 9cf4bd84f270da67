import { describe, expect, test } from "bun:test";
import { seededRandom } from "../../src/clock.ts";
import { InFlight } from "../../src/endpoints/inflight.ts";
import { createScheduler, type PrefixIndex } from "../../src/scheduling/framework/index.ts";
import { endpoint, fixedClock, pods, prompt, request } from "./helpers.ts";

const V1 = "inference.networking.x-k8s.io/v1alpha1";

function scheduler(opts: { config?: unknown; prefixIndex?: PrefixIndex; seed?: number } = {}) {
  const clock = fixedClock();
  const inflight = new InFlight();
  const decisions: number[] = [];
  const plugins: string[] = [];
  const s = createScheduler({
    ...opts,
    inflight,
    clock,
    random: seededRandom(opts.seed ?? 1),
    observe: (point, type, name) => plugins.push(`${point} ${type}/${name}`),
    observeDecision: (sec) => decisions.push(sec),
  });
  return { s, inflight, clock, decisions, plugins };
}

describe("createScheduler", () => {
  test("default profile: picks the least loaded endpoint", () => {
    const { s } = scheduler();
    const eps = [
      endpoint("busy", { waitingQueueSize: 3, kvCacheUsage: 0.5 }),
      endpoint("idle", { kvCacheUsage: 0.1 }),
      endpoint("full", { kvCacheUsage: 0.9 }),
    ];
    // The default picker ranks three: the primary, then fallbacks for the proxy's retries.
    const r = s.decide(request({ prompt: "hello" }), eps);
    expect(r.kind === "picked" && r.endpoints.map((e) => e.name)).toEqual(["idle", "full", "busy"]);
    expect(s.schedule(request({ prompt: "hello" }), eps).map((e) => e.name)).toEqual([
      "idle",
      "full",
      "busy",
    ]);
  });

  test("no candidates: no-endpoints, and schedule() returns []", () => {
    const { s, decisions } = scheduler();
    expect(s.decide(request(), [])).toEqual({ kind: "no-endpoints" });
    expect(s.schedule(request(), [])).toEqual([]);
    expect(decisions.length).toBe(2);
  });

  test("filters removing everything: saturated, and schedule() returns []", () => {
    const { s } = scheduler({
      config: {
        apiVersion: V1,
        kind: "EndpointPickerConfig",
        plugins: [{ type: "label-selector-filter", parameters: { matchLabels: { pool: "gold" } } }],
      },
    });
    expect(s.decide(request(), pods(2))).toEqual({ kind: "saturated", profile: "default" });
    expect(s.schedule(request(), pods(2))).toEqual([]);
  });

  test("maxNumOfEndpoints > 1: primary then fallbacks by score", () => {
    const { s } = scheduler({
      config: {
        apiVersion: V1,
        kind: "EndpointPickerConfig",
        plugins: [
          { type: "queue-scorer" },
          { type: "max-score-picker", parameters: { maxNumOfEndpoints: 3 } },
        ],
      },
    });
    const eps = [0, 4, 1, 8].map((q, i) => endpoint(`q${q}-${i}`, { waitingQueueSize: q }));
    expect(s.schedule(request(), eps).map((e) => e.name)).toEqual(["q0-0", "q1-2", "q4-1"]);
  });

  test("times every plugin and the decision", () => {
    const { s, decisions, plugins } = scheduler();
    s.decide(request({ prompt: prompt(1, 200) }), pods(2));
    expect(plugins).toEqual([
      "Scorer queue-scorer/queue-scorer",
      "Scorer kv-cache-utilization-scorer/kv-cache-utilization-scorer",
      "Scorer prefix-cache-scorer/prefix-cache-scorer",
      "Picker max-score-picker/max-score-picker",
      "PreRequest prefix-cache-scorer/prefix-cache-scorer", // its PostPick hook
    ]);
    expect(decisions).toEqual([0]);
  });

  test("after a pick the request's blocks belong to the primary; the follow-up turn goes there", () => {
    const { s } = scheduler();
    const eps = pods(8);
    const text = prompt(2, 64 * 10);
    const first = s.schedule(request({ prompt: text }), eps)[0]!;
    expect(s.prefixIndex.stats()).toMatchObject({ size: 10, entries: 10, lookups: 1, matchedBlocks: 0 });
    const next = s.schedule(request({ prompt: text + prompt(3, 64 * 2) }), eps)[0]!;
    expect(next.name).toBe(first.name);
    expect(s.prefixIndex.stats()).toMatchObject({ lookups: 2, matchedBlocks: 10, totalBlocks: 22 });
  });

  test("a reloaded scheduler keeps the prefix index it is given", () => {
    const a = scheduler();
    const text = prompt(4, 64 * 4);
    a.s.schedule(request({ prompt: text }), pods(4));
    const b = scheduler({ prefixIndex: a.s.prefixIndex });
    expect(b.s.prefixIndex.size).toBe(4);
  });

  test("removeEndpoint and retainEndpoints free the prefix index", () => {
    const { s } = scheduler();
    const eps = pods(2);
    const primary = s.schedule(request({ prompt: prompt(5, 64 * 4) }), eps)[0]!;
    s.retainEndpoints(eps.map((e) => e.name));
    expect(s.prefixIndex.size).toBe(4);
    s.removeEndpoint(primary.name);
    expect(s.prefixIndex.size).toBe(0);
  });

  test("an unknown plugin type fails at construction", () => {
    expect(() =>
      scheduler({ config: { apiVersion: V1, kind: "EndpointPickerConfig", plugins: [{ type: "nope" }] } }),
    ).toThrow("plugins[0] (nope).type");
  });
});
