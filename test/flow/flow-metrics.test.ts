import { describe, expect, test } from "bun:test";
import { flowMetrics, gieOutcome } from "../../src/metrics/flow-metrics.ts";
import { createGatewayMetrics } from "../../src/metrics/gateway-metrics.ts";
import { harness } from "./helpers.ts";

/**
 * Flow-control metrics as GIE v1.5.0 labels them: outcome values are GIE's
 * (`Dispatched`, `RejectedCapacity`, `EvictedTTL`, ...), series carry `inference_pool` and
 * the model labels, and arrivals and dispatch cycles have their own histograms.
 */
function setup(config?: unknown) {
  const metrics = createGatewayMetrics();
  metrics.labels.accept("alias", "m");
  const observe = flowMetrics({ metrics }).forPool("pool-1", () => 0.5).observe;
  const h = harness({ ...(config ? { config } : {}), observe });
  const text = () => metrics.registry.metrics();
  /** Value of one exposition line, found by name and the label pairs it must carry. */
  const value = async (name: string, ...pairs: string[]) => {
    const line = (await text())
      .split("\n")
      .find((l) => l.startsWith(`${name}{`) && pairs.every((p) => l.includes(p)));
    return line === undefined ? undefined : Number(line.split(" ").at(-1));
  };
  return { h, text, value };
}

const QUEUE = "inference_extension_flow_control_request_queue_duration_seconds_count";
const ENQUEUE = "inference_extension_flow_control_request_enqueue_duration_seconds_count";

describe("flow-control metrics", () => {
  test("a dispatched and a TTL-evicted request: GIE outcomes, pool and model labels, both families", async () => {
    const { h, value, text } = setup({ defaultRequestTTL: "5s" });
    h.submit("busy", { model: "alias" } as never);
    h.submit("waiting", { model: "alias" } as never);
    await h.flush();
    const labels = ['inference_pool="pool-1"', 'model_name="alias"', 'target_model_name="m"'];
    expect(await value("inference_extension_flow_control_queue_size", ...labels)).toBe(1);
    expect(await value("llm_d_epp_flow_control_queue_bytes", ...labels)).toBe(100);
    h.time.advance(5000);
    await h.flush();
    expect(await value(QUEUE, 'outcome="Dispatched"', ...labels)).toBe(1);
    expect(await value(QUEUE, 'outcome="EvictedTTL"', ...labels)).toBe(1);
    expect(
      await value(`llm_d_epp_${QUEUE.slice("inference_extension_".length)}`, 'outcome="EvictedTTL"'),
    ).toBe(1);
    expect(await value("inference_extension_flow_control_queue_size", ...labels)).toBe(0);
    expect(await value(ENQUEUE, 'outcome="Dispatched"', 'fairness_id="default-flow"', 'priority="0"')).toBe(
      1,
    );
    expect(await value(ENQUEUE, 'outcome="NotYetFinalized"')).toBe(1);
    expect(await text()).not.toContain('outcome="dispatched"');
    expect(await value("inference_extension_flow_control_pool_saturation", 'inference_pool="pool-1"')).toBe(
      0.5,
    );
  });

  test("a refusal on arrival is RejectedCapacity; a cancelled waiter EvictedContextCancelled; cycles are timed", async () => {
    const { h, value, text } = setup({ maxRequests: 1 });
    h.submit("busy");
    const waiting = h.submit("waiting");
    const refused = h.submit("refused");
    await h.flush();
    expect(refused.error?.droppedReason).toBe("rejected-saturated");
    expect(await value(QUEUE, 'outcome="RejectedCapacity"')).toBe(1);
    expect(await value(ENQUEUE, 'outcome="RejectedCapacity"')).toBe(1);
    waiting.abort.abort();
    await h.flush();
    expect(await value(QUEUE, 'outcome="EvictedContextCancelled"')).toBe(1);
    // The waiter's arrival ran a dispatch cycle over the queue; an idle controller ran none.
    const cycles = (t: string) =>
      Number(/^inference_extension_flow_control_dispatch_cycle_duration_seconds_count (\d+)$/m.exec(t)?.[1]);
    expect(cycles(await text())).toBeGreaterThan(0);
    expect(cycles(await setup().text())).toBe(0);
  });

  test("outcome names follow GIE's QueueOutcome strings", () => {
    expect(gieOutcome("dispatched", false)).toBe("Dispatched");
    expect(gieOutcome("queued", false)).toBe("NotYetFinalized");
    expect(gieOutcome("rejected-saturated", false)).toBe("RejectedCapacity");
    expect(gieOutcome("rejected-ttl-expired", true)).toBe("EvictedTTL");
    expect(gieOutcome("rejected-no-endpoints", true)).toBe("EvictedTTL");
    expect(gieOutcome("rejected-no-endpoints", false)).toBe("RejectedOther");
    expect(gieOutcome("rejected-context-cancelled", true)).toBe("EvictedContextCancelled");
    expect(gieOutcome("evicted", true)).toBe("EvictedOther");
    expect(gieOutcome("rejected-shutting-down", false)).toBe("RejectedOther");
  });

  test("flow series stop multiplying past the cap: a new (model pair, priority, fairness id) set is `other`", async () => {
    const metrics = createGatewayMetrics();
    const observe = flowMetrics({ metrics }).forPool("p", () => 0).observe;
    const request = {
      targetModel: "m",
      objective: undefined,
      fairnessId: "",
      bytes: 1,
      signal: new AbortController().signal,
    };
    // 26 priorities x 201 fairness labels (200 ids, then `other`) = 5,226 sets > 5,000.
    for (let priority = 0; priority < 26; priority++)
      for (let f = 0; f < 201; f++) {
        const fairnessId = `tenant-${f}`;
        observe.queueDuration?.({
          priority,
          fairnessId,
          outcome: "dispatched",
          ms: 0,
          request: { ...request, fairnessId },
          queued: false,
        });
      }
    const text = await metrics.registry.metrics();
    const series = text
      .split("\n")
      .filter((l) => l.startsWith("inference_extension_flow_control_queue_size{"));
    // The first 5,000 sets keep their ids; after that each priority adds one `other` (24 and 25).
    expect(series.length).toBe(5000 + 2);
    // `other`: the 201st id at priorities 0-23 (the 200-id cap), then 24 and 25 (the set cap).
    expect(series.filter((l) => l.includes('fairness_id="other"')).length).toBe(24 + 2);
  }, 30_000); // 5,000 series through prom-client's exposition: seconds on a loaded machine
});
