/**
 * The fields of an AIGatewayRoute rule that are plain values (durations, the models listed in
 * /v1/models with their owner and time) and the gateway's spill annotations, read and checked
 * for build.ts.
 */
import { ConfigError } from "../config/errors.ts";
import type { AIGatewayRoute, RuleDoc } from "./schema.ts";

/** Envoy AI Gateway's default `modelsOwnedBy`. */
export const DEFAULT_OWNED_BY = "Envoy AI Gateway";
/** Gateway extension annotations on an AIGatewayRoute (the CRD itself has no place for them). */
export const SPILL_AFTER_ANNOTATION = "gateway.inference.dev/spill-after-ms";
export const SPILL_MIN_PRIORITY_ANNOTATION = "gateway.inference.dev/spill-min-priority";
/** Default spill budget: a request waits at most this long in the pool's queue before it spills. */
export const DEFAULT_SPILL_AFTER_MS = 200;
/** When none of a file's documents gives a time: 2025-01-01T00:00:00Z (as /v1/models' fallback). */
const FALLBACK_CREATED = 1735689600;

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** Gateway API duration (`1m30s`, `500ms`) in ms. */
export function durationMs(d: string): number {
  let ms = 0;
  for (const [, n, unit] of d.matchAll(/([0-9]+)(ms|h|m|s)/g)) ms += Number(n) * UNIT_MS[unit!]!;
  return ms;
}

export function timeouts(doc: RuleDoc, id: string) {
  const ms = (d: string | undefined, field: string) => {
    if (d === undefined) return undefined;
    const n = durationMs(d);
    if (n <= 0)
      throw new ConfigError({ path: `${id}.${field}`, expected: "a duration above zero", received: d });
    return n;
  };
  return {
    requestTimeoutMs: ms(doc.timeouts?.request, "timeouts.request"),
    backendRequestTimeoutMs: ms(doc.timeouts?.backendRequest, "timeouts.backendRequest"),
    streamIdleTimeoutMs: ms(doc.streamIdleTimeout, "streamIdleTimeout"),
  };
}

export function modelsOf(doc: RuleDoc): string[] {
  const out: string[] = [];
  for (const m of doc.matches)
    for (const h of m.headers)
      if (h.name.toLowerCase() === "x-ai-eg-model" && h.type === "Exact" && !out.includes(h.value))
        out.push(h.value);
  return out;
}

export function createdOf(doc: RuleDoc, route: AIGatewayRoute, id: string): number {
  const t = doc.modelsCreatedAt ?? route.metadata.creationTimestamp;
  if (t === undefined) return FALLBACK_CREATED;
  const ms = Date.parse(t);
  if (!Number.isFinite(ms))
    throw new ConfigError({
      path: `${id}.modelsCreatedAt`,
      expected: "an RFC 3339 time, e.g. 2024-05-21T10:00:00Z",
      received: t,
    });
  return Math.floor(ms / 1000);
}

export function spillOptions(route: AIGatewayRoute, where: string) {
  const a = route.metadata.annotations ?? {};
  const num = (key: string, fallback: number, min: number) => {
    const raw = a[key];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min)
      throw new ConfigError({
        path: `${where} metadata.annotations["${key}"]`,
        expected: `an integer of at least ${min}`,
        received: JSON.stringify(raw),
      });
    return n;
  };
  return {
    spillAfterMs: num(SPILL_AFTER_ANNOTATION, DEFAULT_SPILL_AFTER_MS, 0),
    spillMinPriority: num(SPILL_MIN_PRIORITY_ANNOTATION, 0, -1_000_000),
  };
}
