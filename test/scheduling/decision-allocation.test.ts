import { heapStats } from "bun:jsc";
import { describe, expect, test } from "bun:test";
import { builtinRegistry } from "../../plugins/index.ts";
import { seededRandom } from "../../src/clock.ts";
import { InFlight } from "../../src/endpoints/inflight.ts";
import { createScheduler } from "../../src/scheduling/framework/index.ts";
import type { PluginObserver } from "../../src/scheduling/framework/runner.ts";
import { fixedClock, pods, request } from "./helpers.ts";

/**
 * Issue 19, fifth pass: what one decision allocates is what Bun's collector pays for on
 * every request. The context is a class and the lifecycle hooks run without a closure per
 * hook, so a decision of the default profile, timed as the gateway times it, with its
 * lifecycle (answer, end) makes at most a couple of functions; it made 20 and 16 scopes.
 */
describe("a decision's allocation", () => {
  test("the default profile, timed, with its lifecycle: no closures per plugin or per hook", async () => {
    const observe: PluginObserver = Object.assign(() => {}, { recorder: () => () => {} });
    const s = createScheduler({
      registry: builtinRegistry(),
      inflight: new InFlight(),
      clock: fixedClock(),
      random: seededRandom(1),
      observe,
      observeDecision: () => {},
    });
    const eps = pods(4);
    const req = request({ prompt: "Hello, how are you?" });
    const one = () => {
      const d = s.schedule(req, eps);
      d.lifecycle!.responseReceived(d.endpoints[0]!, { status: 200, headers: new Headers() });
      d.lifecycle!.responseComplete("success");
    };
    for (let i = 0; i < 500; i++) one();
    await Promise.resolve(); // the prefix index records the picks
    Bun.gc(true);
    const n = 200;
    const before = heapStats().objectTypeCounts;
    for (let i = 0; i < n; i++) one();
    const after = heapStats().objectTypeCounts;
    // A collection in between could only lower the counts: the test cannot fail by it.
    const per = (kind: string) => ((after[kind] ?? 0) - (before[kind] ?? 0)) / n;
    expect(per("Function")).toBeLessThanOrEqual(3);
    expect(per("JSLexicalEnvironment")).toBeLessThanOrEqual(4);
    // The runner's totals only: the load columns are the tracker's, lent to each decision
    // (twenty-second pass; six a decision before).
    expect(per("Float64Array")).toBeLessThanOrEqual(1);
  });

  test("the lifecycle is what the request scope holds: its release is ResponseComplete, once", () => {
    const ends: string[] = [];
    const registry = builtinRegistry();
    registry.register("end-counter", () => ({
      type: "end-counter",
      name: "end-counter",
      responseComplete: (_ctx: unknown, endpoint: { name: string } | undefined, outcome: string) =>
        ends.push(`${endpoint?.name ?? "-"}:${outcome}`),
    }));
    const s = createScheduler({
      registry,
      inflight: new InFlight(),
      clock: fixedClock(),
      random: seededRandom(1),
      config: {
        apiVersion: "inference.networking.x-k8s.io/v1alpha1",
        kind: "EndpointPickerConfig",
        plugins: [{ type: "end-counter" }, { type: "random-picker" }],
        schedulingProfiles: [{ name: "default", plugins: [{ pluginRef: "random-picker" }] }],
      },
    });
    const d = s.schedule(request({ prompt: "x" }), pods(2));
    const lifecycle = d.lifecycle as unknown as { release(outcome: string): void } & typeof d.lifecycle;
    lifecycle!.responseReceived(d.endpoints[0]!, { status: 200, headers: new Headers() });
    lifecycle.release("success");
    lifecycle.release("error");
    lifecycle!.responseComplete("aborted");
    expect(ends).toEqual([`${d.endpoints[0]!.name}:success`]);
  });
});
