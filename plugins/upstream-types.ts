/**
 * Plugin types that exist upstream (GIE v1.5.0, llm-d-router v0.10) but that this
 * gateway does not build, with what they need. A config naming one is refused with
 * "not supported by this gateway (upstream since ...)", which tells it apart from a
 * typo ("unknown plugin type; did you mean ..."). Sources: the fixtures' headers in
 * ../shared/upstream-configs and llm-d-router's plugin registration at v0.10.0.
 */
import type { UnsupportedType } from "../src/scheduling/framework/registry.ts";

const PD = "P/D disaggregation (prefill and decode pods), which this gateway does not do yet";
const PREDICTOR = "the latency-predictor sidecar, which this gateway does not run yet";

/** Upstream plugin types this gateway does not build, by type. */
export const UPSTREAM_ONLY_TYPES: readonly UnsupportedType[] = [
  { type: "disagg-profile-handler", since: "llm-d-router v0.10", needs: PD },
  { type: "pd-profile-handler", since: "llm-d-inference-scheduler v0.2", needs: PD },
  { type: "prefix-based-pd-decider", since: "llm-d-router v0.10", needs: PD },
  { type: "always-disagg-pd-decider", since: "llm-d-router v0.10", needs: PD },
  { type: "prefill-filter", since: "llm-d-inference-scheduler v0.1", needs: PD },
  { type: "prefill-header-handler", since: "llm-d-inference-scheduler v0.2", needs: PD },
  { type: "predicted-latency-producer", since: "GIE v1.5.0", needs: PREDICTOR },
  { type: "latency-scorer", since: "GIE v1.5.0", needs: PREDICTOR },
  { type: "slo-headroom-tier-filter", since: "GIE v1.5.0", needs: PREDICTOR },
  { type: "latency-slo-admitter", since: "GIE v1.5.0", needs: PREDICTOR },
  { type: "context-length-aware", since: "llm-d-router v0.10" },
  { type: "header-profile-handler", since: "llm-d-router v0.10" },
  { type: "session-affinity-filter", since: "llm-d-router v0.10" },
  { type: "load-aware-scorer", since: "llm-d-inference-scheduler v0.1" },
];
