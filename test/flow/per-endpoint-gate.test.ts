import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { builtinFlowPolicies } from "../../plugins/flow/index.ts";
import { utilizationDetector } from "../../plugins/flow/utilization-detector.ts";
import { InFlight } from "../../src/endpoints/inflight.ts";
import type { Endpoint, MetricsSnapshot } from "../../src/endpoints/types.ts";
import {
  type AdmitResult,
  createFlowController,
  FlowControlConfigSchema,
  trackedLoads,
} from "../../src/flow/control/index.ts";
import { LoadTracker } from "../../src/scheduling/framework/load.ts";
import { endpoint, FakeTime } from "./helpers.ts";

/**
 * The gate counts what it sent, per endpoint, at once: a fake pool of pods whose metrics
 * change only when the test "scrapes", a controller with GIE's utilization detector
 * (queueDepthThreshold 2, as in the issue), and a stand-in for the schedule and forward
 * stages: each granted request goes to the least-loaded endpoint `withRoom` offers and
 * is counted in flight there, as the forward stage does.
 */
const PRIORITIES: Record<string, number> = { critical: 10, sheddable: -1 };

function pool(
  names: string[],
  metrics: Partial<MetricsSnapshot> = {},
  models: Record<string, string[]> = {},
) {
  const time = new FakeTime();
  const inflight = new InFlight();
  const tracker = new LoadTracker();
  const loads = trackedLoads(tracker, inflight);
  const serves = (e: Endpoint): Endpoint => ({ ...e, models: new Set(models[e.name] ?? ["m"]) });
  let endpoints: Endpoint[] = names.map((n) =>
    serves(endpoint(n, { updatedAt: time.clock.now(), ...metrics })),
  );
  const ctl = createFlowController({
    clock: time.clock,
    policies: builtinFlowPolicies(),
    setTimer: time.setTimer,
    priorityOf: (o) => (o ? (PRIORITIES[o] ?? 0) : 0),
    saturation: utilizationDetector({ queueDepthThreshold: 2 }),
    endpoints: { list: () => endpoints, serving: (m) => endpoints.filter((e) => e.models.has(m)) },
    inflight,
    loads,
    config: v.parse(FlowControlConfigSchema, { priorityBands: [{ priority: -1, ceiling: 0.8 }] }),
  });
  /** Where each admitted request went, in admission order (`tag@endpoint`). */
  const placed: string[] = [];
  const running = new Map<string, { result: AdmitResult; release: () => void }>();
  const sentTo = (name: string) => placed.filter((p) => p.endsWith(`@${name}`)).length;
  return {
    time,
    ctl,
    placed,
    sentTo,
    endpoints: () => endpoints,
    /** Submits a request; once granted it is placed at once (admit → schedule → forward). */
    submit(tag: string, objective?: string, model = "m") {
      ctl
        .admit({
          objective,
          fairnessId: `tenant-${model}`,
          targetModel: model,
          bytes: 10,
          signal: new AbortController().signal,
        })
        .then((result) => {
          const open = ctl.withRoom(
            endpoints.filter((e) => e.models.has(model)),
            result.admission,
          );
          const target = open.reduce((a, b) => (loads.load(b).waiting < loads.load(a).waiting ? b : a));
          const slot = inflight.acquire(target.name);
          placed.push(`${tag}@${target.name}`);
          const release = () => {
            slot.release();
            result.slot.release("success");
          };
          running.set(tag, { result, release });
        });
    },
    /** The request ends: its in-flight count and flow-control slot go. */
    finish(tag: string) {
      running.get(tag)!.release();
      running.delete(tag);
    },
    /** A scrape lands: new snapshots for some endpoints, then flow control is told. */
    scrape(metrics: Record<string, Partial<MetricsSnapshot>>) {
      time.advance(50);
      endpoints = endpoints.map((e) =>
        metrics[e.name] ? serves(endpoint(e.name, { updatedAt: time.clock.now(), ...metrics[e.name] })) : e,
      );
      ctl.onCapacityChange();
    },
    async flush() {
      for (let i = 0; i < 20; i++) await Promise.resolve();
    },
  };
}

describe("the gate counts each dispatch at once, per endpoint", () => {
  test("a burst between two scrapes does not overfill any pod", async () => {
    // Three pods with every slot busy and nothing waiting, as the last scrape saw them.
    const p = pool(["a", "b", "c"], { runningRequests: 4, kvCacheUsage: 0.4 });
    for (let i = 0; i < 30; i++) p.submit(`r${i}`);
    await p.flush();
    // queueDepthThreshold 2: each pod takes two more, the gateway holds the other 24.
    expect([p.sentTo("a"), p.sentTo("b"), p.sentTo("c")]).toEqual([2, 2, 2]);
    expect(p.ctl.stats().queued).toBe(24);
    // A scrape that shows them waiting changes nothing; a finished request frees its place at once.
    p.scrape({
      a: { runningRequests: 4, waitingQueueSize: 2 },
      b: { runningRequests: 4, waitingQueueSize: 2 },
    });
    await p.flush();
    expect(p.placed).toHaveLength(6);
    p.finish("r0");
    await p.flush();
    expect(p.placed).toHaveLength(7);
    expect(p.placed.at(-1)).toBe(`r6@${p.placed[0]!.split("@")[1]}`);
  });

  test("an idle pod takes the burst up to its threshold, a full one takes none", async () => {
    const p = pool(["idle", "full"]);
    p.scrape({ full: { runningRequests: 4, waitingQueueSize: 3 } });
    for (let i = 0; i < 10; i++) p.submit(`r${i}`);
    await p.flush();
    expect([p.sentTo("idle"), p.sentTo("full")]).toEqual([2, 0]);
  });

  test("strict priority holds across pods: a sheddable request never takes a place a critical one waits for", async () => {
    const p = pool(["a", "b"], { runningRequests: 4 });
    for (let i = 0; i < 4; i++) p.submit(`fill${i}`); // both pods at the threshold
    await p.flush();
    for (let i = 0; i < 3; i++) p.submit(`low${i}`, "sheddable");
    for (let i = 0; i < 3; i++) p.submit(`high${i}`, "critical");
    await p.flush();
    expect(p.placed).toHaveLength(4);
    for (const tag of ["fill0", "fill1", "fill2"]) {
      p.finish(tag);
      await p.flush();
    }
    expect(p.placed.slice(4).map((x) => x.split("@")[0])).toEqual(["high0", "high1", "high2"]);
    // Sheddable has ceiling 0.8: a pod takes it only while its score is below 0.8. Pod a's
    // KV is at 0.7 of 0.8 (score 0.875): room for critical work, none for sheddable.
    p.scrape({
      a: { runningRequests: 4, kvCacheUsage: 0.7 },
      b: { runningRequests: 4, waitingQueueSize: 2 },
    });
    await p.flush();
    expect(p.placed).toHaveLength(7);
    p.submit("high3", "critical");
    await p.flush();
    expect(p.placed.slice(7)).toEqual(["high3@a"]);
    // Once a's score falls below 0.8 (two requests end), sheddable work may go there.
    p.finish("fill3");
    p.finish("high0");
    await p.flush();
    expect(p.placed.slice(8).every((x) => x.startsWith("low"))).toBe(true);
    expect(p.placed.length).toBeGreaterThan(8);
  });
});

describe("withRoom: the schedule stage's candidates", () => {
  test("only endpoints below the band's ceiling; all of them when none is", async () => {
    const p = pool(["a", "b", "c"]);
    p.scrape({ a: { kvCacheUsage: 0.7 }, b: { waitingQueueSize: 2 }, c: { waitingQueueSize: 1 } });
    const names = (priority: number) =>
      p.ctl.withRoom(p.endpoints(), { priority, fairnessId: "f", queuedMs: 0 }).map((e) => e.name);
    expect(names(0)).toEqual(["a", "c"]); // scores 0.875, 1, 0.5
    expect(names(-1)).toEqual(["c"]); // the sheddable band's ceiling is 0.8
    p.scrape({ a: { waitingQueueSize: 2 }, c: { waitingQueueSize: 3 } });
    expect(names(0)).toEqual(["a", "b", "c"]); // none has room: all, rather than none
  });
});

describe("room is counted on the endpoints that serve the request's model", () => {
  test("a request waits for its own model's pods, and does not hold up another model's", async () => {
    const p = pool(["a", "b"], { runningRequests: 4 }, { a: ["m1"], b: ["m2"] });
    p.submit("m1-fill0", undefined, "m1");
    p.submit("m1-fill1", undefined, "m1");
    await p.flush();
    p.submit("m1-waits", undefined, "m1"); // pod a is at the threshold; b has room but not m1
    p.submit("m2-goes", undefined, "m2"); // behind it in the same band (another flow)
    await p.flush();
    expect(p.placed).toEqual(["m1-fill0@a", "m1-fill1@a", "m2-goes@b"]);
    p.finish("m1-fill0");
    await p.flush();
    expect(p.placed.at(-1)).toBe("m1-waits@a");
  });

  test("strict priority per endpoint: a waiting critical request closes its pods to lower bands", async () => {
    const p = pool(["a", "b"], { runningRequests: 4 }, { a: ["m1", "m2"], b: ["m2"] });
    for (const t of ["f0", "f1"]) p.submit(t, undefined, "m1"); // a at the threshold
    await p.flush();
    p.submit("crit-m1", "critical", "m1"); // waits for a
    p.submit("shed-m2", "sheddable", "m2"); // may use b, which crit-m1 cannot use
    await p.flush();
    expect(p.placed.slice(2)).toEqual(["shed-m2@b"]);
    p.submit("shed-m2-again", "sheddable", "m2");
    p.submit("shed-m2-more", "sheddable", "m2");
    await p.flush();
    // b is at its sheddable ceiling after two (0 → 0.5 → 1); a is closed to them.
    expect(p.placed.slice(3)).toEqual(["shed-m2-again@b"]);
    p.finish("f0");
    await p.flush();
    expect(p.placed.slice(4)).toEqual(["crit-m1@a"]);
  });
});
