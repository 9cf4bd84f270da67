import { Gauge, Histogram, type Registry } from "prom-client";
import type { FlowObserver } from "../flow/control/types.ts";
import { LabelCap } from "./label-cap.ts";

/**
 * Flow-control metrics under GIE's names, fed by the controller's observer hooks.
 * Fairness ids come from clients (headers), so their label values are capped. The pool
 * saturation gauge is computed when /metrics is read, so an idle pool shows its idle
 * value rather than the last value a dispatch saw.
 */
export function flowMetrics(registry: Registry, poolSaturation: () => number): FlowObserver {
  const flows = new LabelCap(200);
  const queueSize = new Gauge({
    name: "inference_extension_flow_control_queue_size",
    help: "Requests waiting in flow control, per fairness id and priority band.",
    labelNames: ["fairness_id", "priority"],
    registers: [registry],
  });
  const queueBytes = new Gauge({
    name: "inference_extension_flow_control_queue_bytes",
    help: "Bytes of the requests waiting in flow control, per fairness id and priority band.",
    labelNames: ["fairness_id", "priority"],
    registers: [registry],
  });
  const duration = new Histogram({
    name: "inference_extension_flow_control_request_queue_duration_seconds",
    help: "Time requests spent in flow control, by how they left it.",
    labelNames: ["fairness_id", "priority", "outcome"],
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  new Gauge({
    name: "inference_extension_flow_control_pool_saturation",
    help: "Pool saturation now: mean endpoint score of the saturation detector (>= 1 means full).",
    registers: [registry],
    collect() {
      this.set(poolSaturation());
    },
  });
  return {
    queueSize: (e) => {
      const labels = { fairness_id: flows.value(e.fairnessId), priority: String(e.priority) };
      queueSize.set(labels, e.requests);
      queueBytes.set(labels, e.bytes);
    },
    queueDuration: (e) =>
      duration.observe(
        { fairness_id: flows.value(e.fairnessId), priority: String(e.priority), outcome: e.outcome },
        e.ms / 1000,
      ),
  };
}
