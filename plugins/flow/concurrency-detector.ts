/**
 * concurrency-detector: saturation from the gateway's own in-flight counts per endpoint,
 * exact at once (scraped metrics lag by up to one scrape).
 *
 *   requests(e) = inflight(e) / (maxConcurrency × (1 + headroom))
 *   tokens(e)   = prompt tokens in flight on e / (maxTokenConcurrency × (1 + headroom))
 *   score(e)    = requests(e), tokens(e) or, in `hybrid` mode, the larger of the two
 *   pool        = mean of score(e);  1 with no endpoints
 *
 * Parameters (llm-d v0.10 names): `maxConcurrency` (100 per endpoint),
 * `maxTokenConcurrency` (1,000,000 per endpoint), `headroom` (0: the burst allowed above
 * the limit, as a fraction; upstream lets only its endpoint filter burst, here the
 * endpoint's score and the pool's use the same limit), `concurrencyMode` (`requests`,
 * `tokens`, `hybrid`). The tokens in flight are the gateway's shared counter, fed by
 * inflight-load-producer from PreRequest to ResponseComplete: a config using `tokens`
 * or `hybrid` must declare that producer, or nothing would ever be counted. A request
 * flow control has granted counts its tokens once it is scheduled (as upstream's
 * PreRequest accounting); until then only its request place is reserved.
 */
import * as v from "valibot";
import { ConfigError } from "../../src/config/errors.ts";
import { pluginName, pluginParams } from "../../src/flow/control/params.ts";
import type { PluginFactory, PluginSpec, SaturationDetector } from "../../src/flow/control/types.ts";
import type { InFlightTokenCounter } from "../inflight-token-counter.ts";

export const CONCURRENCY_DETECTOR = "concurrency-detector";
const PRODUCER = "inflight-load-producer";

export const ConcurrencyParamsSchema = v.strictObject({
  maxConcurrency: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 100),
  maxTokenConcurrency: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 1_000_000),
  headroom: v.optional(v.pipe(v.number(), v.minValue(0, "a fraction >= 0, e.g. 0.2")), 0),
  concurrencyMode: v.optional(v.picklist(["requests", "tokens", "hybrid"]), "requests"),
});
export type ConcurrencyParams = v.InferOutput<typeof ConcurrencyParamsSchema>;

/** `tokens` is required for the `tokens` and `hybrid` modes (the gateway's shared counter). */
export function concurrencyDetector(
  params: Partial<ConcurrencyParams> = {},
  name = CONCURRENCY_DETECTOR,
  tokens?: InFlightTokenCounter,
): SaturationDetector {
  const widen = 1 + (params.headroom ?? 0);
  const maxRequests = (params.maxConcurrency ?? 100) * widen;
  const maxTokens = (params.maxTokenConcurrency ?? 1_000_000) * widen;
  const mode = params.concurrencyMode ?? "requests";
  if (mode === "requests")
    return {
      type: CONCURRENCY_DETECTOR,
      name,
      score: (_endpoint, load) => load.inflight / maxRequests,
      scoreColumns(cols, n, _now, out) {
        const inflight = cols.inflight;
        for (let i = 0; i < n; i++) out[i] = inflight[i]! / maxRequests;
      },
    };
  if (!tokens)
    throw new Error(`concurrency-detector ${name}: the ${mode} mode needs the gateway's token counter`);
  const byTokens = (endpoint: { name: string }) => tokens.get(endpoint.name) / maxTokens;
  return mode === "tokens"
    ? { type: CONCURRENCY_DETECTOR, name, score: (endpoint) => byTokens(endpoint) }
    : {
        type: CONCURRENCY_DETECTOR,
        name,
        score: (endpoint, load) => Math.max(load.inflight / maxRequests, byTokens(endpoint)),
      };
}

/**
 * The factory over the gateway's token counter. `declared` is the config's whole
 * `plugins` list: `tokens` / `hybrid` are refused unless it holds an inflight-load-producer.
 */
export function concurrencyDetectorFactory(
  tokens: InFlightTokenCounter | undefined,
): PluginFactory<SaturationDetector> & {
  create(spec: PluginSpec, declared?: readonly PluginSpec[]): SaturationDetector;
} {
  return {
    type: CONCURRENCY_DETECTOR,
    create(spec: PluginSpec, declared: readonly PluginSpec[] = []) {
      const params = pluginParams(ConcurrencyParamsSchema, spec);
      if (params.concurrencyMode !== "requests" && (!tokens || !declared.some((p) => p.type === PRODUCER)))
        throw new ConfigError({
          path: `plugins[${pluginName(spec)}].parameters.concurrencyMode`,
          expected: `"requests", or declare an ${PRODUCER} plugin in plugins: the ${params.concurrencyMode} mode reads the prompt tokens in flight it counts`,
          received: JSON.stringify(params.concurrencyMode),
        });
      return concurrencyDetector(params, pluginName(spec), tokens);
    },
  };
}
