import { Counter, type Registry } from "prom-client";

/**
 * Per-backend metrics for hosted backends and pool-first spillover. Backend and pool names
 * come from the config, never from clients, so their label sets stay bounded.
 */
export class BackendMetrics {
  /** Answers per hosted backend, by HTTP status (`error` when none came). */
  readonly requests: Counter<"backend" | "code">;
  /** Tokens per hosted backend as its usage reported them: `type` input or output. */
  readonly tokens: Counter<"backend" | "type">;
  /** Requests a rule sent from its pool to a hosted backend, and why. */
  readonly spills: Counter<"inference_pool" | "backend" | "reason">;

  constructor(registry: Registry) {
    const registers = [registry];
    this.requests = new Counter({
      name: "gateway_backend_requests_total",
      help: "Requests answered by each hosted backend (AIServiceBackend), by status code.",
      labelNames: ["backend", "code"],
      registers,
    });
    this.tokens = new Counter({
      name: "gateway_backend_tokens_total",
      help: "Tokens each hosted backend reported in its usage, by type (input, output).",
      labelNames: ["backend", "type"],
      registers,
    });
    this.spills = new Counter({
      name: "gateway_spillover_total",
      help: "Requests sent from an InferencePool to a hosted backend (pool first, then spill), by reason: queue_budget, shed, saturated, pool_failed.",
      labelNames: ["inference_pool", "backend", "reason"],
      registers,
    });
  }
}
