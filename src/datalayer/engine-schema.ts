/**
 * Config schema for user-defined engine mappings. Example (llama.cpp server):
 *
 * ```yaml
 * engines:
 *   llamacpp:
 *     waiting: llamacpp:requests_deferred        # one ref or a list; first present wins
 *     running: llamacpp:requests_processing
 *     # no kvUsage: current llama-server has no KV-cache gauge (kv_cache_usage_ratio was removed)
 *   my-triton:
 *     waiting: ['nv_trt_llm_request_metrics{request_type=waiting}']
 *     running: [{name: nv_trt_llm_request_metrics, labels: {request_type: scheduled}}]
 *     kvUsage: []
 * ```
 */

import * as v from "valibot";
import type { EngineMapping } from "./engines.ts";
import { parseMetricRef } from "./metric-ref.ts";

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function isValidSpec(spec: string): boolean {
  try {
    const sel = parseMetricRef(spec);
    return METRIC_NAME.test(sel.name) && sel.labels.every(([k]) => LABEL_NAME.test(k));
  } catch {
    return false;
  }
}

const MetricRefSchema = v.union(
  [
    v.pipe(
      v.string(),
      v.check(isValidSpec, 'a metric name such as "vllm:num_requests_waiting" or "name{label=value}"'),
    ),
    v.strictObject({
      name: v.pipe(v.string(), v.regex(METRIC_NAME, "a Prometheus metric name")),
      labels: v.optional(v.record(v.pipe(v.string(), v.regex(LABEL_NAME, "a label name")), v.string())),
    }),
  ],
  'a metric name, "name{label=value}" or {name, labels}',
);

/** One ref or a list of refs (first present wins); always a list after parsing. */
const RefList = v.pipe(
  v.union([MetricRefSchema, v.array(MetricRefSchema)], "a metric ref or a list of metric refs"),
  v.transform((x) => (Array.isArray(x) ? x : [x])),
);

const NonEmptyRefList = v.pipe(
  RefList,
  v.check((x) => x.length > 0, "at least one metric ref"),
);

const LabelName = v.pipe(v.string(), v.regex(LABEL_NAME, "a label name"));

export const EngineMappingSchema = v.strictObject({
  waiting: NonEmptyRefList,
  running: NonEmptyRefList,
  /** May be empty for an engine without a KV-cache gauge (usage then reads 0). */
  kvUsage: v.optional(RefList, []),
  kvUsageScale: v.optional(
    v.pipe(
      v.number(),
      v.check((n) => Number.isFinite(n) && n > 0, "a positive number, e.g. 0.01 for percent"),
    ),
  ),
  lora: v.optional(MetricRefSchema),
  loraLabels: v.optional(v.strictObject({ max: LabelName, running: LabelName, waiting: LabelName })),
  cacheInfo: v.optional(
    v.strictObject({ metric: MetricRefSchema, blockSizeLabel: LabelName, numBlocksLabel: LabelName }),
  ),
  cacheGauges: v.optional(v.strictObject({ blockSize: NonEmptyRefList, numBlocks: NonEmptyRefList })),
});

/** `engines:` in config: engine name (the pod's `llm-d.ai/engine-type` value) -> mapping. */
export const EngineMappingsSchema = v.record(v.pipe(v.string(), v.minLength(1)), EngineMappingSchema);

// Compile-time guarantee that what the schema outputs is an EngineMapping.
const _outputIsMapping = (x: v.InferOutput<typeof EngineMappingSchema>): EngineMapping => x;
void _outputIsMapping;
