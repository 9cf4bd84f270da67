import { describe, expect, test } from "bun:test";
import { builtinRegistry } from "../../plugins/index.ts";
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
    registry: builtinRegistry(),
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
    expect(s.schedule(request({ prompt: "hello" }), eps).endpoints.map((e) => e.name)).toEqual([
      "idle",
      "full",
      "busy",
    ]);
  });

  test("no candidates: no-endpoints, and schedule() returns []", () => {
    const { s, decisions } = scheduler();
    expect(s.decide(request(), [])).toEqual({ kind: "no-endpoints" });
    expect(s.schedule(request(), [])).toEqual({ endpoints: [] });
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
    expect(s.schedule(request(), pods(2))).toEqual({ endpoints: [] });
  });

  test("a fallback that served gets the request's blocks too: the next turn can go there", () => {
    const { s } = scheduler();
    const eps = pods(4);
    const text = prompt(7, 64 * 10);
    const first = s.schedule(request({ prompt: text }), eps);
    const [primary, fallback] = first.endpoints;
    expect(fallback).toBeDefined();
    // The primary failed before answering; the fallback served.
    first.lifecycle!.responseReceived(fallback!, { status: 200, headers: new Headers() });
    const onlyFallback = eps.filter((e) => e !== primary);
    const r = s.decide(request({ prompt: text }), onlyFallback);
    expect(r.kind === "picked" && r.endpoints[0]!.name).toBe(fallback!.name);
    expect(s.prefixIndex.stats()).toMatchObject({ matchedBlocks: 10 });
  });

  test("lifecycle hooks run once per kind, with the serving endpoint", () => {
    const { s, plugins } = scheduler({
      config: {
        apiVersion: V1,
        kind: "EndpointPickerConfig",
        plugins: [{ type: "session-affinity-scorer" }, { type: "queue-scorer" }],
      },
    });
    const eps = pods(3);
    const { lifecycle } = s.schedule(request(), eps);
    const headers = new Headers();
    lifecycle!.responseReceived(eps[2]!, { status: 200, headers });
    lifecycle!.responseReceived(eps[1]!, { status: 200, headers: new Headers() });
    lifecycle!.responseComplete("success");
    expect(headers.get("x-session-token")).toBe(btoa(eps[2]!.name));
    expect(plugins.filter((p) => p.startsWith("ResponseReceived"))).toEqual([
      "ResponseReceived session-affinity-scorer/session-affinity-scorer",
    ]);
  });

  test("a config without lifecycle plugins gives no lifecycle", () => {
    const { s } = scheduler({
      config: { apiVersion: V1, kind: "EndpointPickerConfig", plugins: [{ type: "queue-scorer" }] },
    });
    expect(s.schedule(request(), pods(2)).lifecycle).toBeUndefined();
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
    expect(s.schedule(request(), eps).endpoints.map((e) => e.name)).toEqual(["q0-0", "q1-2", "q4-1"]);
  });

  test("times every plugin and the decision", () => {
    const { s, decisions, plugins } = scheduler();
    s.decide(request({ prompt: prompt(1, 200) }), pods(2));
    expect(plugins).toEqual([
      "Scorer queue-scorer/queue-scorer",
      "Scorer kv-cache-utilization-scorer/kv-cache-utilization-scorer",
      "Scorer prefix-cache-scorer/prefix-cache-scorer",
      "Picker max-score-picker/max-score-picker",
      "PreRequest prefix-cache-scorer/prefix-cache-scorer", // records the blocks on the primary
    ]);
    expect(decisions).toEqual([0]);
  });

  test("after a pick the request's blocks belong to the primary; the follow-up turn goes there", () => {
    const { s } = scheduler();
    const eps = pods(8);
    const text = prompt(2, 64 * 10);
    const first = s.schedule(request({ prompt: text }), eps).endpoints[0]!;
    expect(s.prefixIndex.stats()).toMatchObject({ size: 10, entries: 10, lookups: 1, matchedBlocks: 0 });
    const next = s.schedule(request({ prompt: text + prompt(3, 64 * 2) }), eps).endpoints[0]!;
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
    const primary = s.schedule(request({ prompt: prompt(5, 64 * 4) }), eps).endpoints[0]!;
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
