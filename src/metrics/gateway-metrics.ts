import { Counter, Gauge, Registry } from "prom-client";
import * as B from "./buckets.ts";
import { LabelCap, ModelLabelCap, type ModelLabels, OVERFLOW_LABEL } from "./label-cap.ts";
import { RequestSeries } from "./request-series.ts";
import { CounterFamily, GaugeFamily, HistogramFamily } from "./series-family.ts";

/** Upstream's HELP texts carry the stability level in front (`HelpMsgWithStability`). */
export const alpha = (help: string) => `[ALPHA] ${help}`;

type ModelLabel = "model_name" | "target_model_name";
type FlowLabel = ModelLabel | "fairness_id" | "priority";

/** The per-request families GIE and llm-d both report, under their own prefixes. */
interface RequestFamilies {
  readonly requests: CounterFamily;
  readonly duration: HistogramFamily;
  readonly running: GaugeFamily;
  readonly ttft: HistogramFamily;
  readonly ntpot: HistogramFamily;
  readonly requestSizes: HistogramFamily;
  readonly responseSizes: HistogramFamily;
  readonly inputTokens: HistogramFamily;
  readonly outputTokens: HistogramFamily;
  readonly cachedTokens: HistogramFamily;
}

/**
 * GIE v1.5.0's `inference_objective_*` request metrics. The per-request families resolve
 * label sets once (series-family.ts); errors are rare and stay prom-client counters.
 */
export interface GieRequestMetrics extends RequestFamilies {
  readonly errors: Counter<ModelLabel | "error_code">;
  readonly tpot: HistogramFamily;
}

/** llm-d-router v0.10's `llm_d_epp_request_*` metrics: the same requests, with fairness and priority. */
export interface LlmdRequestMetrics extends RequestFamilies {
  readonly errors: Counter<FlowLabel | "error_code">;
  readonly streamingTpot: HistogramFamily;
}

/**
 * The gateway's own Prometheus metrics, under the names GIE dashboards expect
 * (`inference_objective_*`) and llm-d's beside them (`llm_d_epp_*`). One Registry per app
 * instance: no module globals, so tests and several apps in one process do not share counters.
 */
export interface GatewayMetrics extends GieRequestMetrics {
  readonly registry: Registry;
  /**
   * Model label values, bounded in count, length and to names the gateway accepted
   * (see label-cap.ts): use for every model-labelled series, never a raw client string.
   */
  readonly labels: ModelLabelCap;
  readonly llmd: LlmdRequestMetrics;
  readonly rewrites: Counter<"model_rewrite_name" | "model_name" | "target_model">;
  readonly llmdRewrites: Counter<"model_rewrite_name" | "model_name" | "target_model">;
  /**
   * Every request series of one request, resolved once per label set and then reused:
   * the hot path observes on pre-resolved children instead of hashing label objects.
   */
  series(model: string, target: string, fairnessId: string, priority: number): RequestSeries;
}

/** What `inference_extension_info` / `llm_d_epp_info` report. */
export interface BuildInfo {
  commit: string;
  buildRef: string;
}

/**
 * llm-d's request series multiply model pairs by fairness ids by priorities; past this many
 * (model pair, priority, fairness id) sets a new set reports its fairness id as `other`.
 */
export const MAX_FLOW_SERIES = 5000;

export function createGatewayMetrics(
  maxModelLabels = 100,
  build: BuildInfo = { commit: "unknown", buildRef: "unknown" },
  maxFlowSeries = MAX_FLOW_SERIES,
): GatewayMetrics {
  const registry = new Registry();
  const model = ["model_name", "target_model_name"] as const;
  const flow = [...model, "fairness_id", "priority"] as const;
  const hist = (name: string, help: string, labelNames: readonly string[], buckets: number[]) =>
    new HistogramFamily(name, alpha(help), labelNames, buckets, registry);
  const series = (name: string, help: string, labelNames: readonly string[]) =>
    new CounterFamily(name, alpha(help), labelNames, registry);
  const level = (name: string, help: string, labelNames: readonly string[]) =>
    new GaugeFamily(name, alpha(help), labelNames, registry);
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Counter<L>({ name, help: alpha(help), labelNames, registers: [registry] });

  const o = "inference_objective_";
  const gie: GieRequestMetrics = {
    requests: series(
      `${o}request_total`,
      "Counter of inference objective requests broken out for each model and target model.",
      [...model, "priority"],
    ),
    errors: counter(
      `${o}request_error_total`,
      "Counter of inference objective requests errors broken out for each model and target model.",
      [...model, "error_code"],
    ),
    duration: hist(
      `${o}request_duration_seconds`,
      "Inference objective response latency distribution in seconds for each model and target model.",
      model,
      B.GENERAL_LATENCY,
    ),
    running: level(`${o}running_requests`, "Inference objective number of running requests in each model.", [
      "model_name",
    ]),
    ttft: hist(
      `${o}request_ttft_seconds`,
      "Inference model TTFT distribution in seconds for each model and target model.",
      model,
      B.GENERAL_LATENCY,
    ),
    tpot: hist(
      `${o}request_tpot_seconds`,
      "Inference model TPOT distribution in seconds for each model and target model.",
      model,
      B.TPOT,
    ),
    ntpot: hist(
      `${o}normalized_time_per_output_token_seconds`,
      "Inference objective latency divided by number of output tokens in seconds for each model and target model.",
      model,
      B.NTPOT,
    ),
    requestSizes: hist(
      `${o}request_sizes`,
      "Inference objective requests size distribution in bytes for each model and target model.",
      model,
      B.REQUEST_SIZE,
    ),
    responseSizes: hist(
      `${o}response_sizes`,
      "Inference objective responses size distribution in bytes for each model and target model.",
      model,
      B.RESPONSE_SIZE,
    ),
    inputTokens: hist(
      `${o}input_tokens`,
      "Inference objective input token count distribution for requests in each model.",
      model,
      B.INPUT_TOKENS,
    ),
    outputTokens: hist(
      `${o}output_tokens`,
      "Inference objective output token count distribution for requests in each model.",
      model,
      B.OUTPUT_TOKENS,
    ),
    cachedTokens: hist(
      `${o}prompt_cached_tokens`,
      "Inference objective prompt cached token count distribution for requests in each model.",
      model,
      B.INPUT_TOKENS,
    ),
  };
  const l = "llm_d_epp_";
  const llmd: LlmdRequestMetrics = {
    requests: series(`${l}request_total`, "Total number of processed requests.", flow),
    errors: counter(`${l}request_error_total`, "Total number of request errors.", [...flow, "error_code"]),
    duration: hist(
      `${l}request_duration_seconds`,
      "End-to-end request latency distribution in seconds.",
      flow,
      B.GENERAL_LATENCY,
    ),
    running: level(`${l}request_running`, "Current number of active running requests.", flow),
    ttft: hist(
      `${l}request_ttft_seconds`,
      "Time to first token in seconds, measured from request received to first response byte. For non-streaming requests, this equals total request duration.",
      [...flow, "streaming"],
      B.LLMD_TTFT,
    ),
    streamingTpot: hist(
      `${l}request_streaming_tpot_seconds`,
      "Average time per output token in seconds for streaming requests, computed as (e2e - TTFT) / (output_tokens - 1).",
      flow,
      B.LLMD_STREAMING_TPOT,
    ),
    ntpot: hist(
      `${l}request_ntpot_seconds`,
      "Normalized time per output token in seconds (end-to-end latency divided by output token count).",
      flow,
      B.NTPOT,
    ),
    requestSizes: hist(
      `${l}request_size_bytes`,
      "Incoming request body size distribution in bytes.",
      flow,
      B.REQUEST_SIZE,
    ),
    responseSizes: hist(
      `${l}response_size_bytes`,
      "Outgoing response body size distribution in bytes.",
      flow,
      B.RESPONSE_SIZE,
    ),
    inputTokens: hist(
      `${l}request_input_tokens`,
      "Input token count distribution per request.",
      flow,
      B.INPUT_TOKENS,
    ),
    outputTokens: hist(
      `${l}request_output_tokens`,
      "Output token count distribution per request.",
      flow,
      B.OUTPUT_TOKENS,
    ),
    cachedTokens: hist(
      `${l}request_cached_tokens`,
      "Distribution of prompt tokens read from cache per request, as reported by the model server in the response.",
      flow,
      B.INPUT_TOKENS,
    ),
  };
  const rewriteLabels = ["model_rewrite_name", "model_name", "target_model"] as const;
  const rewriteHelp = "Total number of inference model rewrite decisions.";
  const rewrites = counter("inference_extension_model_rewrite_decisions_total", rewriteHelp, rewriteLabels);
  const llmdRewrites = counter(`${l}model_rewrite_decisions_total`, rewriteHelp, rewriteLabels);
  const infoHelp = "General information of the current build of Inference Extension.";
  for (const name of ["inference_extension_info", `${l}info`])
    new Gauge({
      name,
      help: alpha(infoHelp),
      labelNames: ["commit", "build_ref"],
      registers: [registry],
    }).set({ commit: build.commit, build_ref: build.buildRef }, 1);

  const labels = new ModelLabelCap(maxModelLabels);
  const flows = new LabelCap(200);
  // Label set -> priority -> fairness id -> series. ModelLabels objects are interned by
  // ModelLabelCap, so no key string is built per request.
  const cache = new Map<ModelLabels, Map<number, Map<string, RequestSeries>>>();
  let sets = 0;
  return {
    registry,
    labels,
    ...gie,
    llmd,
    rewrites,
    llmdRewrites,
    series(requested, target, fairnessId, priority) {
      const pair = labels.of(requested, target);
      let byPriority = cache.get(pair);
      if (!byPriority) {
        byPriority = new Map();
        cache.set(pair, byPriority);
      }
      let byFlow = byPriority.get(priority);
      if (!byFlow) {
        byFlow = new Map();
        byPriority.set(priority, byFlow);
      }
      let flowId = flows.value(fairnessId);
      let s = byFlow.get(flowId);
      if (s) return s;
      if (sets >= maxFlowSeries) {
        flowId = OVERFLOW_LABEL;
        s = byFlow.get(flowId);
        if (s) return s;
      }
      sets++;
      s = new RequestSeries(gie, llmd, pair, flowId, String(priority));
      byFlow.set(flowId, s);
      return s;
    },
  };
}
