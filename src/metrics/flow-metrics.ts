import { Gauge } from "prom-client";
import type { FlowObserver, FlowOutcome } from "../flow/control/types.ts";
import * as B from "./buckets.ts";
import { alpha, type GatewayMetrics, MAX_FLOW_SERIES } from "./gateway-metrics.ts";
import { LabelCap, type ModelLabels, OVERFLOW_LABEL } from "./label-cap.ts";
import { GaugeFamily, HistogramFamily, type HistogramSeries } from "./series-family.ts";

/**
 * GIE's outcome label values (`QueueOutcome.String()`) for how a request left flow
 * control. A refusal before queueing is a rejection, a drop from the queue an eviction.
 */
export function gieOutcome(outcome: FlowOutcome | "queued", queued: boolean): string {
  switch (outcome) {
    case "dispatched":
      return "Dispatched";
    case "queued":
      return "NotYetFinalized";
    case "rejected-saturated":
      return "RejectedCapacity";
    case "rejected-ttl-expired":
      return "EvictedTTL";
    case "rejected-no-endpoints":
      // Queued until the TTL with the pool still empty: a TTL eviction (answered 503).
      return queued ? "EvictedTTL" : "RejectedOther";
    case "rejected-context-cancelled":
      return queued ? "EvictedContextCancelled" : "RejectedOther";
    default:
      // Shutting down, or evicted for a higher priority.
      return queued ? "EvictedOther" : "RejectedOther";
  }
}

/** The series of one (pool, models, priority, fairness id) set, resolved once. */
interface FlowSeries {
  size: { inc(v?: number): void }[];
  bytes: { inc(v?: number): void }[];
  /** By GIE outcome, resolved on first use. */
  duration: Map<string, HistogramSeries[]>;
  labels: {
    fairness_id: string;
    priority: string;
    inference_pool: string;
    model_name: string;
    target_model_name: string;
  };
}

/**
 * Flow-control metrics under GIE's `inference_extension_flow_control_*` names and llm-d's
 * `llm_d_epp_flow_control_*` beside them, fed by the controller's observer hooks. Fairness
 * ids come from clients, so their label values are capped; model names go through the
 * gateway's model label cap. The pool saturation gauge is computed when /metrics is read.
 */
export function flowMetrics(opts: { metrics: Pick<GatewayMetrics, "registry" | "labels"> }): {
  /** One pool's observer; `remove()` drops its saturation series when the pool goes away. */
  forPool(poolName: string, poolSaturation: () => number): { observe: FlowObserver; remove(): void };
} {
  const registry = opts.metrics.registry;
  const flows = new LabelCap(200);
  const both = (suffix: string) => [`inference_extension_${suffix}`, `llm_d_epp_${suffix}`];
  const queueLabels = ["fairness_id", "priority", "inference_pool", "model_name", "target_model_name"];
  const gauges = (suffix: string, help: string) =>
    both(suffix).map((name) => new GaugeFamily(name, alpha(help), queueLabels, registry));
  const hists = (suffix: string, help: string, labelNames: string[], buckets: number[]) =>
    both(suffix).map((name) => new HistogramFamily(name, alpha(help), labelNames, buckets, registry));
  const size = gauges(
    "flow_control_queue_size",
    "Current number of requests actively held in the Flow Control queue.",
  );
  const bytes = gauges(
    "flow_control_queue_bytes",
    "Current total size in bytes of requests actively held in the Flow Control queue.",
  );
  const duration = hists(
    "flow_control_request_queue_duration_seconds",
    "Distribution of total time requests spend in the Flow Control layer (from enqueue to final outcome).",
    ["fairness_id", "priority", "outcome", "inference_pool", "model_name", "target_model_name"],
    B.QUEUE_DURATION,
  );
  const enqueue = hists(
    "flow_control_request_enqueue_duration_seconds",
    "Distribution of time taken to enqueue requests into the Flow Control layer.",
    ["fairness_id", "priority", "outcome"],
    B.FAST_PATH,
  );
  const cycle = hists(
    "flow_control_dispatch_cycle_duration_seconds",
    "Distribution of time taken for each internal dispatch cycle in the Flow Control layer.",
    [],
    B.FAST_PATH,
  );
  for (const name of both("flow_control_pool_saturation"))
    new Gauge({
      name,
      help: alpha("Current saturation level of the inference pool (0.0 = empty, 1.0 = fully saturated)."),
      labelNames: ["inference_pool"],
      registers: [registry],
      collect() {
        this.reset();
        for (const [pool, saturation] of saturations) this.set({ inference_pool: pool }, saturation());
      },
    });
  const saturations = new Map<string, () => number>();

  const cycles = cycle.map((h) => h.labels({}));
  // Outcome -> priority -> fairness id -> enqueue series.
  const arrivals = new Map<string, Map<number, Map<string, HistogramSeries[]>>>();
  let sets = 0;
  const forPool = (pool: string, poolSaturation: () => number) => {
    saturations.set(pool, poolSaturation);
    // Model labels -> priority -> fairness id -> series: no key strings per request.
    const cache = new Map<ModelLabels, Map<number, Map<string, FlowSeries>>>();
    function seriesOf(e: {
      priority: number;
      fairnessId: string;
      request: { model?: string; targetModel: string };
    }) {
      const pair = opts.metrics.labels.of(e.request.model ?? e.request.targetModel, e.request.targetModel);
      const byFlow = inner(inner(cache, pair), e.priority);
      let fairness = flows.value(e.fairnessId);
      let s = byFlow.get(fairness);
      if (!s && sets >= MAX_FLOW_SERIES) {
        // Fairness ids times model pairs times priorities: past the cap, a new set is `other`.
        fairness = OVERFLOW_LABEL;
        s = byFlow.get(fairness);
      }
      if (!s) {
        sets++;
        const labels = { fairness_id: fairness, priority: String(e.priority), inference_pool: pool, ...pair };
        s = {
          size: size.map((g) => g.labels(labels)),
          bytes: bytes.map((g) => g.labels(labels)),
          duration: new Map(),
          labels,
        };
        // Upstream counts every request that enters flow control, so its flow has a series.
        for (const g of s.size) g.inc(0);
        for (const g of s.bytes) g.inc(0);
        byFlow.set(fairness, s);
      }
      return s;
    }
    const observe: FlowObserver = {
      queueSize(e) {
        const s = seriesOf(e);
        for (const g of s.size) g.inc(e.delta);
        for (const g of s.bytes) g.inc(e.delta * e.requestBytes);
      },
      queueDuration(e) {
        const s = seriesOf(e);
        const outcome = gieOutcome(e.outcome, e.queued);
        let c = s.duration.get(outcome);
        if (!c) {
          const { fairness_id, priority, ...rest } = s.labels;
          const labels = { fairness_id, priority, outcome, ...rest };
          c = duration.map((h) => h.labels(labels));
          s.duration.set(outcome, c);
        }
        for (const h of c) h.observe(e.ms / 1000);
      },
      enqueue(e) {
        const outcome = gieOutcome(e.outcome, false);
        const byFlow = inner(inner(arrivals, outcome), e.priority);
        const fairness = flows.value(e.fairnessId);
        let c = byFlow.get(fairness);
        if (!c) {
          const labels = { fairness_id: fairness, priority: String(e.priority), outcome };
          c = enqueue.map((h) => h.labels(labels));
          byFlow.set(fairness, c);
        }
        for (const h of c) h.observe(e.ms / 1000);
      },
      dispatchCycle(ms) {
        for (const h of cycles) h.observe(ms / 1000);
      },
    };
    return {
      observe,
      remove() {
        if (saturations.get(pool) === poolSaturation) saturations.delete(pool);
      },
    };
  };
  return { forPool };
}

/** The map under `key` in `outer`, made empty on first use: the flow series caches nest two deep. */
function inner<K, K2, V>(outer: Map<K, Map<K2, V>>, key: K): Map<K2, V> {
  let map = outer.get(key);
  if (!map) {
    map = new Map();
    outer.set(key, map);
  }
  return map;
}
