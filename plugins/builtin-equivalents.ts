/**
 * Upstream plugins whose job this gateway does itself, accepted so today's configs load
 * as written. Each builds a plugin that takes no part in scheduling and carries one
 * start-up line (`note`) saying what it maps to here. Their parameters are read loosely
 * (upstream adds fields between releases) but must be an object.
 *
 * - metrics-data-source, core-metrics-extractor (GIE v1.5, llm-d v0.10 data layer):
 *   the gateway scrapes each pod's metrics itself (GatewayConfig `dataLayer`, `engines`).
 * - models-data-source: the gateway asks each pod's /v1/models itself.
 * - openai-parser, passthrough-parser, anthropic-parser: the gateway's own request parsing.
 * - token-producer (llm-d v0.10): the precise prefix producer tokenizes itself (its
 *   `tokenizer.source`: the pods' /tokenize by default).
 * - endpoint-notification-source (llm-d v0.10): the gateway tells the precise producer which
 *   pods exist itself (pool discovery), and it subscribes to each one's KV events.
 */
import * as v from "valibot";
import type { SchedulingPlugin } from "../src/scheduling/framework/interfaces.ts";
import { type PluginDefinition, withParameters } from "../src/scheduling/framework/registry.ts";

const AnyParameters = v.looseObject({});

function accepted(type: string, note: string): PluginDefinition {
  return {
    type,
    factory: withParameters(AnyParameters, (name): SchedulingPlugin => ({ type, name, note })),
  };
}

const SCRAPE =
  "built in: the gateway scrapes each pod's /metrics itself (GatewayConfig dataLayer and engines)";

export const BUILTIN_EQUIVALENTS: readonly PluginDefinition[] = [
  accepted("metrics-data-source", SCRAPE),
  accepted("core-metrics-extractor", `${SCRAPE}; queue, running, KV-cache and LoRA metrics by engine`),
  accepted("models-data-source", "built in: the gateway asks each pod's /v1/models itself"),
  accepted("openai-parser", "built in: the gateway parses OpenAI requests itself"),
  accepted(
    "passthrough-parser",
    "the gateway parses OpenAI requests itself; a body it cannot parse is refused with a 400, not passed through",
  ),
  accepted(
    "anthropic-parser",
    "built in: the gateway parses Anthropic Messages requests (/v1/messages) itself",
  ),
  accepted(
    "token-producer",
    "built in: precise-prefix-cache-producer tokenizes the prompt itself (tokenizer.source: the pods' /tokenize by default, not the vllm.url given here)",
  ),
  accepted(
    "endpoint-notification-source",
    "built in: the gateway knows the pool's pods itself and precise-prefix-cache-producer subscribes to each one's KV events",
  ),
];
