import type { Clock } from "../../src/clock.ts";
import { seededRandom } from "../../src/clock.ts";
import { InFlight } from "../../src/endpoints/inflight.ts";
import type { Endpoint, MetricsSnapshot } from "../../src/endpoints/types.ts";
import { createContext } from "../../src/scheduling/framework/context.ts";
import { DEFAULT_ENDPOINT_PICKER_CONFIG } from "../../src/scheduling/framework/index.ts";
import type { SchedulingContext } from "../../src/scheduling/framework/interfaces.ts";
import { LoadTracker } from "../../src/scheduling/framework/load.ts";
import type { PluginDeps } from "../../src/scheduling/framework/registry.ts";
import { PrefixIndex } from "../../src/scheduling/prefix/prefix-index.ts";
import type { SchedulingRequest } from "../../src/scheduling/types.ts";

/** The fixed "now" of every test clock; endpoints are scraped at this time unless told otherwise. */
export const NOW = 10_000;

export function fixedClock(t = NOW): Clock & { t: number } {
  const c = { t, now: () => c.t };
  return c;
}

export function endpoint(
  name: string,
  metrics: Partial<MetricsSnapshot> = {},
  extra: { labels?: Record<string, string>; models?: string[] } = {},
): Endpoint {
  return {
    name,
    address: `10.0.0.${name.length}:8000`,
    labels: extra.labels ?? {},
    engine: "vllm",
    models: new Set(extra.models ?? ["m"]),
    metrics: { waitingQueueSize: 0, runningRequests: 0, kvCacheUsage: 0, updatedAt: NOW, ...metrics },
  };
}

/** `n` identical idle endpoints named pod-0..pod-(n-1). */
export function pods(n: number, metrics: Partial<MetricsSnapshot> = {}): Endpoint[] {
  return Array.from({ length: n }, (_, i) => endpoint(`pod-${i}`, metrics));
}

export function request(
  opts: {
    model?: string;
    prompt?: string;
    body?: Record<string, unknown>;
    headers?: Record<string, string>;
  } = {},
): SchedulingRequest {
  return {
    requestId: "req-1",
    targetModel: opts.model ?? "m",
    body: opts.body ?? { model: opts.model ?? "m", prompt: opts.prompt ?? "" },
    headers: new Headers(opts.headers ?? {}),
  };
}

/** A context over a fresh load tracker; `inflight` defaults to an empty InFlight. */
export function context(
  opts: { request?: SchedulingRequest; inflight?: InFlight; clock?: Clock } = {},
): SchedulingContext {
  return createContext({
    request: opts.request ?? request(),
    clock: opts.clock ?? fixedClock(),
    inflight: opts.inflight ?? new InFlight(),
    loads: new LoadTracker(),
  });
}

export function deps(seed = 1): PluginDeps {
  return { random: seededRandom(seed), clock: fixedClock(), prefixIndex: new PrefixIndex() };
}

/** A deterministic prompt of `chars` characters that shares nothing with other seeds' prompts. */
export function prompt(seed: number, chars: number): string {
  const r = seededRandom(seed);
  let s = "";
  while (s.length < chars) s += r().toString(36).slice(2);
  return s.slice(0, chars);
}

/** Scores from a scorer result as a plain array aligned with `endpoints`. */
export function asArray(
  result: ReadonlyMap<Endpoint, number> | ArrayLike<number | undefined>,
  endpoints: readonly Endpoint[],
): (number | undefined)[] {
  if (result instanceof Map) return endpoints.map((e) => (result as ReadonlyMap<Endpoint, number>).get(e));
  return Array.from(result as ArrayLike<number | undefined>);
}

/** GIE's default profile with other max-score-picker parameters (e.g. a narrower tie band). */
export function defaultProfileWithPicker(parameters: Record<string, unknown>) {
  const base = DEFAULT_ENDPOINT_PICKER_CONFIG;
  return {
    ...base,
    plugins: (base.plugins ?? []).map((p) => (p.type === "max-score-picker" ? { ...p, parameters } : p)),
  };
}
