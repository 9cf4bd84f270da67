import * as v from "valibot";
import { ConfigError } from "../config/errors.ts";
import { toConfigError } from "../config/issues.ts";
import { checkPolicies, hostedBackend, type Resources } from "./backends.ts";
import { headerTest } from "./match.ts";
import { createdOf, DEFAULT_OWNED_BY, modelsOf, spillOptions, timeouts } from "./rule-fields.ts";
import {
  type AIGatewayRoute,
  AIGatewayRouteSchema,
  AIServiceBackendSchema,
  BackendSecurityPolicySchema,
  BackendTLSPolicySchema,
  COMPANION_KINDS,
  EgBackendSchema,
  GatewayApiDocSchema,
  KeyValueDocSchema,
  type RuleDoc,
} from "./schema.ts";
import type { AigwConfig, CompiledRule, HostedBackend, RuleBackend } from "./types.ts";

const POOL_GROUPS = new Set(["inference.networking.k8s.io", "inference.networking.x-k8s.io"]);

/** One document of an AIGW kind, as the loader hands it over. */
export interface AigwDoc {
  readonly kind: string;
  readonly doc: unknown;
  readonly where: string;
  /** Position in the file (0-based). */
  readonly index: number;
}

/**
 * A Secret, ConfigMap, GatewayClass or Gateway in a file with no other Envoy AI Gateway
 * document: such a file is not about routes, so the loader refuses the kind as it refuses
 * any foreign one.
 */
export function loneKeyValueDoc(docs: readonly AigwDoc[]): AigwDoc | undefined {
  if (docs.some((d) => !COMPANION_KINDS.has(d.kind))) return undefined;
  return docs[0];
}

function parse<S extends v.GenericSchema>(schema: S, doc: unknown, where: string): v.InferOutput<S> {
  const r = v.safeParse(schema, doc);
  if (!r.success) throw toConfigError(r.issues, where);
  return r.output;
}

/**
 * Compiles the file's AIGatewayRoute, AIServiceBackend, BackendSecurityPolicy, Backend,
 * BackendTLSPolicy, Secret and ConfigMap documents. undefined when the file has no
 * AIGatewayRoute: routing stays model → pool. `pools` are the pools served (a rule may only
 * name those, unless the cluster brings pools: `discovery`).
 */
export function buildAigw(
  docs: readonly AigwDoc[],
  opts: { pools: readonly string[]; discovery: boolean; warnings: string[] },
): AigwConfig | undefined {
  const res: Resources = {
    services: new Map(),
    policies: [],
    backends: new Map(),
    tls: [],
    values: new Map(),
    discovery: opts.discovery,
  };
  const routes: { route: AIGatewayRoute; where: string }[] = [];
  for (const { kind, doc, where } of docs) {
    switch (kind) {
      case "AIGatewayRoute":
        routes.push({ route: parse(AIGatewayRouteSchema, doc, where), where });
        break;
      case "AIServiceBackend": {
        const d = parse(AIServiceBackendSchema, doc, where);
        if (d.spec.timeouts !== undefined)
          opts.warnings.push(
            `${where} spec.timeouts: ignored (an older v1alpha1 field); set timeouts.request / timeouts.backendRequest on the route rule instead`,
          );
        res.services.set(d.metadata.name, d);
        break;
      }
      case "BackendSecurityPolicy":
        res.policies.push(parse(BackendSecurityPolicySchema, doc, where));
        break;
      case "Backend": {
        const d = parse(EgBackendSchema, doc, where);
        res.backends.set(d.metadata.name, d);
        break;
      }
      case "BackendTLSPolicy":
        res.tls.push(parse(BackendTLSPolicySchema, doc, where));
        break;
      case "GatewayClass":
      case "Gateway":
        parse(GatewayApiDocSchema, doc, where); // this gateway is the Gateway: nothing to take from it
        break;
      default: {
        const d = parse(KeyValueDocSchema, doc, where);
        res.values.set(`${d.kind}/${d.metadata.name}`, d);
      }
    }
  }
  if (routes.length === 0) {
    if (res.services.size > 0)
      opts.warnings.push(
        "AIServiceBackend documents without an AIGatewayRoute are not used: add a route rule naming them",
      );
    return undefined;
  }
  checkPolicies(res.policies);
  const hosted = new Map<string, HostedBackend>();
  const rules: CompiledRule[] = [];
  for (const { route, where } of routes.sort(byAge)) {
    if (route.spec.rateLimitsFromHeaders?.length)
      throw new ConfigError({
        path: `${where} spec.rateLimitsFromHeaders`,
        expected:
          "no rateLimitsFromHeaders: this gateway has no Envoy rate-limit service to feed; remove the field",
      });
    if (route.spec.filterConfig !== undefined)
      opts.warnings.push(
        `${where} spec.filterConfig configures Envoy's external processor: ignored (this gateway is its own filter)`,
      );
    if (route.spec.llmRequestCosts?.length)
      opts.warnings.push(
        `${where} spec.llmRequestCosts: ignored; tokens are metered per backend (gateway_backend_tokens_total)`,
      );
    const spill = spillOptions(route, where);
    route.spec.rules.forEach((doc, i) => {
      const id = `${where} spec.rules[${i}]`;
      const backends = doc.backendRefs.map((ref, j) =>
        resolveRef(ref, `${id}.backendRefs[${j}]`, { res, hosted, opts }),
      );
      checkMix(backends, id);
      if (
        backends.length > 0 &&
        backends.every((b) => b.target.kind === "pool") &&
        (doc.timeouts?.backendRequest !== undefined || doc.streamIdleTimeout !== undefined)
      )
        opts.warnings.push(
          `${id}: timeouts.backendRequest and streamIdleTimeout apply to hosted backends only; a pool's attempts use the GatewayConfig's upstream.responseTimeoutMs and upstream.idleTimeoutMs (timeouts.request does apply)`,
        );
      const rule: CompiledRule = {
        id,
        hostnames: route.spec.hostnames ?? [],
        matches: doc.matches.map((m, k) =>
          m.headers.map((h, l) => headerTest(h, `${id}.matches[${k}].headers[${l}]`)),
        ),
        backends,
        ...timeouts(doc, id),
        models: modelsOf(doc),
        ownedBy: doc.modelsOwnedBy ?? DEFAULT_OWNED_BY,
        created: createdOf(doc, route, id),
        ...spill,
      };
      rules.push(rule);
    });
  }
  return Object.freeze({ rules, backends: hosted });
}

/**
 * Gateway API's tie-break between routes: the oldest `creationTimestamp` first (a route
 * without one counts as the newest), then `namespace/name` in alphabetical order.
 */
function byAge(a: { route: AIGatewayRoute }, b: { route: AIGatewayRoute }): number {
  const age = (r: AIGatewayRoute) => {
    const t = Date.parse(r.metadata.creationTimestamp ?? "");
    return Number.isFinite(t) ? t : Number.POSITIVE_INFINITY;
  };
  const key = (r: AIGatewayRoute) => `${r.metadata.namespace ?? ""}/${r.metadata.name}`;
  const d = age(a.route) - age(b.route);
  if (d !== 0 && !Number.isNaN(d)) return d;
  const ka = key(a.route);
  const kb = key(b.route);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function resolveRef(
  ref: RuleDoc["backendRefs"][number],
  path: string,
  ctx: {
    res: Resources;
    hosted: Map<string, HostedBackend>;
    opts: { pools: readonly string[]; discovery: boolean };
  },
): RuleBackend {
  if (ref.headerMutation !== undefined || ref.bodyMutation !== undefined)
    throw new ConfigError({
      path,
      expected:
        "no headerMutation or bodyMutation: this gateway does not rewrite headers or bodies per backend; remove them",
    });
  if ((ref.group === undefined) !== (ref.kind === undefined))
    throw new ConfigError({ path, expected: "group and kind together, or neither (an AIServiceBackend)" });
  const base = {
    name: ref.name,
    weight: ref.weight,
    priority: ref.priority,
    modelNameOverride: ref.modelNameOverride || undefined,
  };
  if (ref.group !== undefined) {
    if (!POOL_GROUPS.has(ref.group) || ref.kind !== "InferencePool")
      throw new ConfigError({
        path,
        expected: "group inference.networking.k8s.io with kind InferencePool (the only other backend kind)",
        received: `${ref.group}/${ref.kind}`,
      });
    if (!ctx.opts.discovery && !ctx.opts.pools.includes(ref.name))
      throw new ConfigError({
        path: `${path}.name`,
        expected: `an InferencePool this gateway serves (${ctx.opts.pools.map((p) => `'${p}'`).join(", ")})`,
        received: `'${ref.name}'`,
      });
    if (ref.modelNameOverride)
      throw new ConfigError({
        path: `${path}.modelNameOverride`,
        expected:
          "no modelNameOverride on an InferencePool (Envoy AI Gateway ignores it there); use an InferenceModelRewrite",
      });
    return { ...base, target: { kind: "pool", pool: ref.name } };
  }
  let backend = ctx.hosted.get(ref.name);
  if (!backend) {
    backend = hostedBackend(ref.name, ctx.res, path);
    ctx.hosted.set(ref.name, backend);
  }
  return { ...base, target: { kind: "hosted", backend } };
}

/**
 * Upstream allows one InferencePool per rule and never mixes it with AIServiceBackends.
 * This gateway keeps the first rule and relaxes the second for pool-first spillover: the
 * pool must come first (lowest priority number) and every hosted backend after it.
 */
function checkMix(backends: readonly RuleBackend[], id: string): void {
  const pools = backends.filter((b) => b.target.kind === "pool");
  if (pools.length > 1)
    throw new ConfigError({
      path: `${id}.backendRefs`,
      expected: "at most one InferencePool per rule (as Envoy AI Gateway)",
    });
  const pool = pools[0];
  if (!pool) return;
  const early = backends.find((b) => b.target.kind === "hosted" && b.priority <= pool.priority);
  if (early)
    throw new ConfigError({
      path: `${id}.backendRefs`,
      expected: `every AIServiceBackend behind the InferencePool '${pool.name}' at a higher priority number (a spill target): '${early.name}' has priority ${early.priority}, the pool ${pool.priority}`,
    });
}
