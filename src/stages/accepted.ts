import type { GatewayConfig } from "../config/load.ts";
import type { GatewayMetrics } from "../metrics/gateway-metrics.ts";
import type { Exchange } from "./exchange.ts";

/**
 * Runs once a request is authorized and a pod serves its target: from here on the
 * gateway has accepted it, so its model names may label metrics (until then they
 * label as `unknown`: a refused name must not cost a series) and its rewrite decision
 * is counted. The aliases of each config in force are pinned once, so client-chosen
 * names can never push them into `other`.
 */
export function accepted(deps: {
  metrics: Pick<GatewayMetrics, "labels" | "rewrites" | "llmdRewrites">;
}): (x: Exchange) => void {
  const pinnedFrom = new WeakSet<GatewayConfig>();
  return function acceptedStage(x) {
    const target = x.targetModel;
    const labels = deps.metrics.labels;
    const config = x.pool.config.current;
    if (!pinnedFrom.has(config)) {
      pinnedFrom.add(config);
      labels.pin(config.rewriteTable.aliases().map((a) => a.model));
    }
    labels.accept(target.requested, target.target);
    if (target.rewriteName !== undefined) {
      const decision = {
        model_rewrite_name: target.rewriteName,
        model_name: labels.name(target.requested),
        target_model: labels.name(target.target),
      };
      deps.metrics.rewrites.inc(decision);
      deps.metrics.llmdRewrites.inc(decision);
    }
  };
}
