/**
 * precise-prefix-cache-producer (llm-d-router v0.10) and precise-prefix-cache-scorer
 * (llm-d-inference-scheduler v0.2, the older all-in-one form): prefix-cache routing from
 * what the pods report in their vLLM KV events instead of what the gateway guesses.
 *
 * - The producer owns the index and the ZMQ subscriptions (src/kvevents/) and, with
 *   `speculativeIndexing`, adds the request's blocks to the chosen pod before its events
 *   confirm them (PreRequest). Upstream reads its per-endpoint match through
 *   `prefix-cache-scorer` (`prefixMatchInfoProducerName`); here the precise scorer does,
 *   naming it the same way (default: the config's only precise producer).
 * - The scorer with no producer in the config builds its own state from its own
 *   parameters (upstream's precise-prefix-cache-scorer), the same parameters as the
 *   producer (plugins/precise-prefix-params.ts).
 *
 * Score formula: plugins/precise-prefix-scoring.ts. Bun and Node only (TCP sockets);
 * elsewhere a logged fallback to the approximate index.
 */
import type { Clock } from "../src/clock.ts";
import type { Endpoint } from "../src/endpoints/types.ts";
import { charTokens } from "../src/kvevents/char-tokenizer.ts";
import { KvEventsHub } from "../src/kvevents/hub.ts";
import { PodTokens } from "../src/kvevents/pod-tokens.ts";
import type { SubscriberFactory } from "../src/kvevents/pool.ts";
import type { SchedulingContext, SchedulingPlugin } from "../src/scheduling/framework/interfaces.ts";
import {
  ParameterError,
  type PluginDefinition,
  type PluginDeps,
  type PluginRegistry,
  parseParameters,
} from "../src/scheduling/framework/registry.ts";
import { PreciseParameters, preciseSettings } from "./precise-prefix-params.ts";
import { type PreciseScoring, preciseScoring } from "./precise-prefix-scoring.ts";
import { prefixCacheScorer } from "./prefix-cache-scorer.ts";

export const PRECISE_PRODUCER = "precise-prefix-cache-producer";
export const PRECISE_SCORER = "precise-prefix-cache-scorer";

interface PreciseProducer extends SchedulingPlugin {
  readonly precise: PreciseScoring;
}

function isPreciseProducer(p: unknown): p is PreciseProducer {
  return (
    typeof p === "object" &&
    p !== null &&
    "precise" in p &&
    (p as { type?: string }).type === PRECISE_PRODUCER
  );
}

/** Where the prompt's token ids come from (`tokenizer.source`). */
function tokenSource(p: PreciseParameters, deps: PluginDeps, hub: KvEventsHub) {
  if (p.tokenizer.source === "simulator") return (ctx: SchedulingContext) => charTokens(ctx.promptText());
  const learned = new PodTokens({ clock: deps.clock, maxEntries: p.tokenizer.cacheSize, log: hub.log });
  return (ctx: SchedulingContext, endpoints: readonly Endpoint[]) =>
    learned.lookup(ctx.targetModel, ctx.request.body, endpoints);
}

function build(hub: KvEventsHub, name: string, parameters: unknown, deps: PluginDeps): PreciseScoring {
  const p = parseParameters(PreciseParameters, parameters);
  const state = hub.state(preciseSettings(p), deps.clock);
  return preciseScoring({
    name,
    state,
    tokens: tokenSource(p, deps, hub),
    speculative: p.speculativeIndexing,
    fallback: prefixCacheScorer({
      name,
      index: deps.prefixIndex,
      params: { blockSize: p.tokenProcessorConfig.blockSize, autoTune: false },
    }),
  });
}

function describe(s: PreciseScoring): string {
  const ev = s.state.settings.events;
  const mode = ev.zmqEndpoint
    ? `binds ${ev.zmqEndpoint} for the pods' KV events`
    : ev.discoverPods
      ? `subscribes to each pod's KV events on port ${ev.socketPort}`
      : "no KV-event source configured (set kvEventsConfig.zmqEndpoint or podDiscoveryConfig)";
  return `${mode}, topic filter ${JSON.stringify(ev.topicFilter)}, blocks of ${s.state.settings.blockSize} tokens`;
}

/** A scorer over a precise producer's index: what `type`/`name` scores with when it names that producer. */
function scorerOver(type: string, name: string, precise: PreciseScoring) {
  return {
    type,
    name,
    note: describe(precise),
    score: (ctx: Parameters<PreciseScoring["score"]>[0], endpoints: Parameters<PreciseScoring["score"]>[1]) =>
      precise.score(ctx, endpoints),
    preRequest: (
      ctx: Parameters<PreciseScoring["preRequest"]>[0],
      endpoints: Parameters<PreciseScoring["preRequest"]>[1],
    ) => precise.preRequest(ctx, endpoints),
    responseReceived: (
      ctx: Parameters<PreciseScoring["responseReceived"]>[0],
      r: Parameters<PreciseScoring["responseReceived"]>[1],
    ) => precise.responseReceived(ctx, r),
  };
}

/**
 * llm-d v0.10's split pipeline (token-producer → precise-prefix-cache-producer →
 * prefix-cache-scorer): a `prefix-cache-scorer` whose `prefixMatchInfoProducerName` names a
 * precise producer scores by that producer's index. undefined when the name is not one.
 */
export function preciseScorerNamed(
  producerName: string | undefined,
  deps: Parameters<PluginDefinition["factory"]>[2],
  type: string,
  name: string,
) {
  if (producerName === undefined) return undefined;
  const found = [...(deps.producers?.values() ?? [])]
    .filter(isPreciseProducer)
    .find((p) => p.name === producerName);
  return found ? scorerOver(type, name, found.precise) : undefined;
}

/** The two plugin types over one gateway's hub. */
export function precisePrefixCachePlugins(hub: KvEventsHub): PluginDefinition[] {
  const producer: PluginDefinition = {
    type: PRECISE_PRODUCER,
    producer: true,
    factory: (name, parameters, deps): PreciseProducer => {
      const precise = build(hub, name, parameters, deps);
      return {
        type: PRECISE_PRODUCER,
        name,
        precise,
        note: describe(precise),
        preRequest: (ctx, endpoints) => precise.preRequest(ctx, endpoints),
      };
    },
  };
  const scorer: PluginDefinition = {
    type: PRECISE_SCORER,
    factory: (name, parameters, deps) => {
      const raw = (parameters ?? {}) as Record<string, unknown>;
      const wanted = raw["prefixMatchInfoProducerName"];
      const producers = [...(deps.producers?.values() ?? [])].filter(isPreciseProducer);
      const { prefixMatchInfoProducerName: _, ...own } = raw;
      let precise: PreciseScoring;
      if (wanted !== undefined) {
        const found = producers.find((p) => p.name === wanted);
        if (!found)
          throw new ParameterError(
            "prefixMatchInfoProducerName",
            `the name of a ${PRECISE_PRODUCER} in plugins (defined: ${producers.map((p) => p.name).join(", ") || "none"})`,
            JSON.stringify(wanted),
          );
        precise = found.precise;
      } else if (producers.length === 1 && Object.keys(own).length === 0) precise = producers[0]!.precise;
      else precise = build(hub, name, own, deps);
      return scorerOver(PRECISE_SCORER, name, precise);
    },
  };
  return [producer, scorer];
}

/**
 * How the hub gets its TCP subscriber: the one the runtime entry injected (Bun and Node pass
 * src/runtime/zmq-socket.ts through `builtinPlugins({ kvSubscriber })`). Workers cannot keep
 * long-lived sockets in a request-scoped isolate (and have no TCP listener); Deno is not
 * tested with them. There the plugins fall back to the approximate index, logged once,
 * rather than refusing the config: the same config then serves on every runtime, with the
 * weaker, still correct index.
 */
export function subscriberLoader(
  factory: SubscriberFactory | undefined,
  g: { navigator?: { userAgent?: string }; Deno?: unknown } = globalThis as never,
): () => Promise<SubscriberFactory> {
  return async () => {
    if (g.navigator?.userAgent === "Cloudflare-Workers")
      throw new Error("Cloudflare Workers cannot keep the TCP sockets KV events need; Bun and Node can");
    if (g.Deno !== undefined) throw new Error("KV events run on Bun and Node only (not tested on Deno)");
    if (!factory)
      throw new Error(
        "this runtime gives the gateway no TCP sockets for KV events (the Bun and Node entries do)",
      );
    return factory;
  };
}

const hubs = new WeakMap<PluginRegistry, KvEventsHub>();

/** Registers both types with a hub of their own (one per registry, i.e. per gateway). */
export function registerPrecisePrefix(
  registry: PluginRegistry,
  opts: {
    clock?: Clock;
    log?: (msg: string) => void;
    /** The runtime's TCP subscriber (src/runtime/zmq-socket.ts on Bun and Node). */
    subscriber?: SubscriberFactory;
    loadSubscriber?: () => Promise<SubscriberFactory>;
  } = {},
): KvEventsHub {
  const hub = new KvEventsHub({
    clock: opts.clock ?? { now: () => performance.now() },
    loadSubscriber: opts.loadSubscriber ?? subscriberLoader(opts.subscriber),
    ...(opts.log ? { log: opts.log } : {}),
  });
  for (const d of precisePrefixCachePlugins(hub))
    registry.register(d.type, d.factory, { producer: d.producer === true });
  hubs.set(registry, hub);
  return hub;
}

/** The KV-events hub a registry's precise plugins share (to close it, or to inspect it in tests). */
export function kvEventsHubOf(registry: PluginRegistry): KvEventsHub | undefined {
  return hubs.get(registry);
}
