/**
 * lora-affinity-scorer: prefer endpoints where the requested LoRA adapter is (or can
 * cheaply be) loaded.
 *
 *   1.0  the adapter is running on the endpoint (in `metrics.lora.running`)
 *   0.6  else, the adapter is waiting there (in `metrics.lora.waiting`): it is queued
 *        for a slot, so the endpoint's adapter slots are contended (checked before
 *        "room", as GIE does)
 *   0.8  else, the endpoint has room to load it (running adapters < maxLoras)
 *   0.0  else (no room)
 *   1.0  a base-model request (see below): LoRA slots do not matter
 *
 * Inputs: `ctx.targetModel` and each endpoint's `metrics.lora` (vLLM's
 * `vllm:lora_requests_info`). A request counts as a base-model request on an endpoint
 * that reports no LoRA state, or when the target is listed in `baseModels`: engines do
 * not tell an unloaded adapter from a base model, so LoRA-enabled pools should list
 * their base models.
 *
 * Parameters: `baseModels` (list of model names, default none).
 */
import * as v from "valibot";
import type { Endpoint } from "../src/endpoints/types.ts";
import type { Scorer } from "../src/scheduling/framework/interfaces.ts";
import { type PluginDefinition, withParameters } from "../src/scheduling/framework/registry.ts";

export const LORA_AFFINITY_SCORER = "lora-affinity-scorer";

export function loraAffinity(model: string, endpoint: Endpoint, baseModels: ReadonlySet<string>): number {
  const lora = endpoint.metrics.lora;
  if (lora === undefined || baseModels.has(model)) return 1;
  if (lora.running.includes(model)) return 1;
  if (lora.waiting.includes(model)) return 0.6;
  return lora.running.length < lora.maxLoras ? 0.8 : 0;
}

export function loraAffinityScorer(opts: { name?: string; baseModels?: readonly string[] } = {}): Scorer {
  const base = new Set(opts.baseModels ?? []);
  return {
    type: LORA_AFFINITY_SCORER,
    name: opts.name ?? LORA_AFFINITY_SCORER,
    score: (ctx, endpoints) => endpoints.map((e) => loraAffinity(ctx.targetModel, e, base)),
  };
}

export const loraAffinityScorerPlugin: PluginDefinition = {
  type: LORA_AFFINITY_SCORER,
  factory: withParameters(
    v.strictObject({ baseModels: v.optional(v.array(v.pipe(v.string(), v.minLength(1))), []) }),
    (name, params) => loraAffinityScorer({ name, baseModels: params.baseModels }),
  ),
};
