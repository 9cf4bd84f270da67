/**
 * inflight-load-producer (llm-d v0.10): the prompt tokens this gateway has in flight on
 * each endpoint, for token-load-scorer and prefix-cache-affinity-filter's load gate.
 *
 *   tokens(e) = sum over requests sent to e and not ended of ceil(prompt characters / 4)
 *
 * A request counts on its primary from PreRequest; when a fallback answers instead
 * (ResponseReceived) it moves there; ResponseComplete, which runs once for every
 * scheduled request, answered or not, takes it off. Parameters: none. Every instance
 * also feeds the gateway's shared counter (`shared`), which the concurrency detector's
 * `tokens` / `hybrid` modes read.
 */
import * as v from "valibot";
import type { Endpoint } from "../src/endpoints/types.ts";
import {
  type PluginIdentity,
  type PreRequest,
  type ResponseComplete,
  type ResponseReceived,
  stateKey,
} from "../src/scheduling/framework/interfaces.ts";
import { type PluginDefinition, withParameters } from "../src/scheduling/framework/registry.ts";
import { CHARS_PER_TOKEN } from "../src/scheduling/prefix/hashes.ts";
import type { InFlightTokenCounter } from "./inflight-token-counter.ts";

export const INFLIGHT_LOAD_PRODUCER = "inflight-load-producer";

export interface InFlightTokens extends PluginIdentity {
  /** Prompt tokens in flight on the endpoint (0 when none). */
  tokensInFlight(endpoint: Pick<Endpoint, "name">): number;
}

export function isInFlightTokens(p: unknown): p is InFlightTokens {
  return typeof p === "object" && p !== null && "tokensInFlight" in p;
}

export function inflightLoadProducer(
  name = INFLIGHT_LOAD_PRODUCER,
  shared?: InFlightTokenCounter,
): InFlightTokens & PreRequest & ResponseReceived & ResponseComplete {
  const tokens = new Map<string, number>();
  const held = stateKey<{ endpoint: string; tokens: number }>(`${INFLIGHT_LOAD_PRODUCER}/${name}`);
  const add = (endpoint: string, n: number) => {
    const next = (tokens.get(endpoint) ?? 0) + n;
    if (next > 0) tokens.set(endpoint, next);
    else tokens.delete(endpoint);
    shared?.add(endpoint, n);
  };
  return {
    type: INFLIGHT_LOAD_PRODUCER,
    name,
    tokensInFlight: (e) => tokens.get(e.name) ?? 0,
    preRequest(ctx, endpoints) {
      const primary = endpoints[0];
      if (!primary) return;
      const n = Math.ceil(ctx.promptText().length / CHARS_PER_TOKEN);
      add(primary.name, n);
      ctx.set(held, { endpoint: primary.name, tokens: n });
    },
    responseReceived(ctx, { endpoint }) {
      const h = ctx.get(held);
      if (!h || h.endpoint === endpoint.name) return;
      add(h.endpoint, -h.tokens);
      add(endpoint.name, h.tokens);
      ctx.set(held, { endpoint: endpoint.name, tokens: h.tokens });
    },
    responseComplete(ctx) {
      const h = ctx.get(held);
      if (!h) return;
      add(h.endpoint, -h.tokens);
      ctx.set(held, { endpoint: h.endpoint, tokens: 0 });
    },
  };
}

/** The plugin definition; instances feed `shared` when given (one counter per gateway). */
export function inflightLoadProducerPluginWith(shared?: InFlightTokenCounter): PluginDefinition {
  return {
    type: INFLIGHT_LOAD_PRODUCER,
    producer: true,
    factory: withParameters(v.strictObject({}), (name) => inflightLoadProducer(name, shared)),
  };
}

export const inflightLoadProducerPlugin: PluginDefinition = inflightLoadProducerPluginWith();
