/**
 * inflight-load-producer (llm-d v0.10): the uncached prompt tokens this gateway has in
 * flight on each endpoint, for token-load-scorer, prefix-cache-affinity-filter's load
 * gate and the concurrency detector's tokens mode.
 *
 *   tokens(e) = sum over requests sent to e, answer not started (streams) or not ended,
 *               of uncached(r, e) [+ estimated output tokens, with addEstimatedOutputTokens]
 *   uncached(r, e) = ceil(prompt characters / 4) - tokens of r's prefix e holds
 *                    (the request's prefix match on e, plugins/prefix-match.ts)
 *
 * As upstream: only the uncached part counts (the compute the pod has to do); a streamed
 * answer gives its prompt tokens back at its first byte (the prefill is done), a whole
 * answer at its end; ResponseComplete, which runs once for every scheduled request,
 * answered or not, gives back whatever is left, including the estimated output. When a
 * fallback serves a whole answer, the tokens move there.
 *
 * Parameters (upstream names): `addEstimatedOutputTokens` (false; the estimate is
 * upstream's UNKNOWN bucket, 1,000 tokens, capped by the request's max_tokens /
 * max_completion_tokens / max_output_tokens and by `maxEstimatedOutputTokens`),
 * `maxEstimatedOutputTokens`, `prefixMatchInfoProducerName` (accepted: the match is the
 * one the request's prefix filter or scorer computed with its producer's settings; with
 * neither in the profile, 16-token blocks and a 256-block window).
 * Every instance also feeds the gateway's shared counter (`shared`).
 */
import * as v from "valibot";
import type { Endpoint } from "../src/endpoints/types.ts";
import {
  type PluginIdentity,
  type PreRequest,
  type ResponseComplete,
  type ResponseReceived,
  type SchedulingContext,
  stateKey,
} from "../src/scheduling/framework/interfaces.ts";
import { type PluginDefinition, withParameters } from "../src/scheduling/framework/registry.ts";
import type { PrefixIndex } from "../src/scheduling/prefix/prefix-index.ts";
import { blockCharsOf, type PrefixSettings, prefixSettingsOf } from "./approx-prefix-cache-producer.ts";
import type { InFlightTokenCounter } from "./inflight-token-counter.ts";
import { currentMatch, type PrefixMatch, prefixMatch, streams, uncachedTokens } from "./prefix-match.ts";

export const INFLIGHT_LOAD_PRODUCER = "inflight-load-producer";

/** Upstream's estimate for a request of unknown output length (its UNKNOWN bucket). */
const UNKNOWN_OUTPUT_TOKENS = 1000;

export interface InFlightTokens extends PluginIdentity {
  /** Uncached prompt tokens (plus estimated output) in flight on the endpoint (0 when none). */
  tokensInFlight(endpoint: Pick<Endpoint, "name">): number;
  /** This request's uncached prompt tokens on each endpoint (token-load-scorer's current load). */
  requestTokens(ctx: SchedulingContext, endpoints: readonly Endpoint[]): number[];
}

export function isInFlightTokens(p: unknown): p is InFlightTokens {
  return typeof p === "object" && p !== null && "tokensInFlight" in p;
}

const Parameters = v.strictObject({
  addEstimatedOutputTokens: v.optional(v.boolean(), false),
  maxEstimatedOutputTokens: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  prefixMatchInfoProducerName: v.optional(v.pipe(v.string(), v.minLength(1))),
});
type Parameters = v.InferOutput<typeof Parameters>;

export function inflightLoadProducer(opts: {
  name?: string;
  shared?: InFlightTokenCounter;
  index: PrefixIndex;
  settings: PrefixSettings;
  params?: Partial<Parameters>;
}): InFlightTokens & PreRequest & ResponseReceived & ResponseComplete {
  const name = opts.name ?? INFLIGHT_LOAD_PRODUCER;
  const p = { addEstimatedOutputTokens: false, ...opts.params };
  const tokens = new Map<string, number>();
  const held = stateKey<{ endpoint: string; prompt: number; output: number }>(
    `${INFLIGHT_LOAD_PRODUCER}/${name}`,
  );
  const add = (endpoint: string, n: number) => {
    if (n === 0) return;
    const next = (tokens.get(endpoint) ?? 0) + n;
    if (next > 0) tokens.set(endpoint, next);
    else tokens.delete(endpoint);
    opts.shared?.add(endpoint, n);
  };
  const match = (ctx: SchedulingContext, endpoints: readonly Endpoint[]): PrefixMatch =>
    currentMatch(ctx) ??
    prefixMatch(
      ctx,
      opts.index,
      { blockChars: blockCharsOf(opts.settings, endpoints), maxBlocks: opts.settings.maxPrefixBlocksToMatch },
      endpoints,
    );
  const release = (ctx: SchedulingContext, part: "prompt" | "all") => {
    const h = ctx.get(held);
    if (!h) return;
    const n = part === "all" ? h.prompt + h.output : h.prompt;
    add(h.endpoint, -n);
    ctx.set(held, { endpoint: h.endpoint, prompt: 0, output: part === "all" ? 0 : h.output });
  };
  return {
    type: INFLIGHT_LOAD_PRODUCER,
    name,
    tokensInFlight: (e) => tokens.get(e.name) ?? 0,
    requestTokens(ctx, endpoints) {
      const m = match(ctx, endpoints);
      return endpoints.map((e) => uncachedTokens(m, e.name));
    },
    preRequest(ctx, endpoints) {
      const primary = endpoints[0];
      if (!primary) return;
      const prompt = uncachedTokens(match(ctx, endpoints), primary.name);
      const output = p.addEstimatedOutputTokens ? estimatedOutput(ctx, p.maxEstimatedOutputTokens) : 0;
      add(primary.name, prompt + output);
      ctx.set(held, { endpoint: primary.name, prompt, output });
    },
    responseReceived(ctx, { endpoint }) {
      const h = ctx.get(held);
      if (!h) return;
      if (streams(ctx)) return release(ctx, "prompt");
      if (h.endpoint === endpoint.name) return;
      add(h.endpoint, -(h.prompt + h.output));
      add(endpoint.name, h.prompt + h.output);
      ctx.set(held, { ...h, endpoint: endpoint.name });
    },
    responseComplete(ctx) {
      release(ctx, "all");
    },
  };
}

/** Upstream's UNKNOWN-bucket estimate, capped by what the client allows and the parameter. */
function estimatedOutput(ctx: SchedulingContext, cap: number | undefined): number {
  const body = ctx.request.body as Record<string, unknown>;
  let n = UNKNOWN_OUTPUT_TOKENS;
  for (const f of ["max_tokens", "max_completion_tokens", "max_output_tokens"]) {
    const x = body[f];
    if (typeof x === "number" && Number.isFinite(x) && x >= 0) n = Math.min(n, x);
  }
  return cap === undefined ? n : Math.min(n, cap);
}

/** The plugin definition; instances feed `shared` when given (one counter per gateway). */
export function inflightLoadProducerPluginWith(shared?: InFlightTokenCounter): PluginDefinition {
  return {
    type: INFLIGHT_LOAD_PRODUCER,
    producer: true,
    factory: withParameters(Parameters, (name, params, deps) =>
      inflightLoadProducer({
        name,
        ...(shared ? { shared } : {}),
        index: deps.prefixIndex,
        settings: prefixSettingsOf(undefined),
        params,
      }),
    ),
  };
}

export const inflightLoadProducerPlugin: PluginDefinition = inflightLoadProducerPluginWith();
