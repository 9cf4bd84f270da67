import { type InferenceModelRewrite, RewriteTable } from "../rewrite/index.ts";
import { ConfigError } from "./errors.ts";
import type { EndpointPickerConfig, InferenceObjective, InferencePool } from "./resources.ts";
import type { StaticEndpoint } from "./settings.ts";
import { closest } from "./strict.ts";

/**
 * One InferencePool's part of the config: the resources whose `poolRef` names it and the
 * EndpointPickerConfig that serves it. Each pool gets its own endpoints, flow control,
 * scheduler and data layer from this (src/pools/).
 */
export interface PoolConfig {
  readonly name: string;
  /** The pool document; undefined when the file defines none (static endpoints, or a cluster pool not yet seen). */
  readonly pool: InferencePool | undefined;
  readonly objectives: readonly InferenceObjective[];
  readonly rewrites: readonly InferenceModelRewrite[];
  readonly rewriteTable: RewriteTable;
  readonly pickerConfig: EndpointPickerConfig | undefined;
}

/** The pool a file without InferencePool documents has: every resource and endpoint is its. */
export const IMPLICIT_POOL = "default";

type PoolRefd = { metadata: { name: string }; spec: { poolRef: { name: string } } };

/**
 * Splits the file's resources by pool. `names` are the pools served, in order (the first
 * wins a tie in routing); `docs` the pool documents known (may be fewer: with Kubernetes
 * discovery the cluster brings them). With one pool that no document or setting named,
 * every resource is its, whatever its poolRef (a file written before pools had names).
 */
export function splitByPool(input: {
  names: readonly string[];
  docs: readonly InferencePool[];
  implicit: boolean;
  objectives: readonly InferenceObjective[];
  rewrites: readonly InferenceModelRewrite[];
  pickers: readonly EndpointPickerConfig[];
}): { pools: PoolConfig[]; warnings: string[] } {
  const warnings: string[] = [];
  const served = new Set(input.names);
  const defined = input.docs.map((d) => d.metadata.name);
  const of = <T extends PoolRefd>(xs: readonly T[], pool: string): T[] =>
    input.implicit ? [...xs] : xs.filter((x) => x.spec.poolRef.name === pool);
  if (!input.implicit)
    for (const [kind, xs] of [
      ["InferenceModelRewrite", input.rewrites],
      ["InferenceObjective", input.objectives],
    ] as const)
      for (const x of xs as readonly PoolRefd[]) {
        const ref = x.spec.poolRef.name;
        if (served.has(ref)) continue;
        const resource = `${kind}/${x.metadata.name}`;
        const list = [...served].map((n) => `'${n}'`).join(", ");
        const fronts =
          served.size === 1
            ? `${list} (the pool this gateway fronts)`
            : `${list} (the pools this gateway fronts)`;
        if (defined.includes(ref))
          warnings.push(`${resource} is for InferencePool '${ref}', not ${fronts}: ignored`);
        else {
          const guess = closest(ref, [...served, ...defined]);
          warnings.push(
            `${resource} spec.poolRef.name '${ref}' names no InferencePool${guess ? ` (did you mean '${guess}'?)` : ""}: ignored; this gateway fronts ${list}`,
          );
        }
      }
  const pickerOf = pickerAssignment(input.pickers, input.docs, warnings);
  const pools = input.names.map((name): PoolConfig => {
    const rewrites = of(input.rewrites, name);
    let rewriteTable: RewriteTable;
    try {
      rewriteTable = RewriteTable.build(rewrites);
    } catch (err) {
      throw err instanceof ConfigError
        ? err
        : new ConfigError({ path: `InferencePool/${name}`, expected: String(err) });
    }
    const pool = input.docs.find((d) => d.metadata.name === name);
    return Object.freeze({
      name,
      pool,
      objectives: of(input.objectives, name),
      rewrites,
      rewriteTable,
      pickerConfig: pickerOf(name, pool),
    });
  });
  return { pools, warnings };
}

/**
 * Which EndpointPickerConfig serves which pool. GIE links a pool to its picker by
 * `spec.endpointPickerRef.name` (the endpoint picker's Service): a picker document whose
 * `metadata.name` is that name (or the pool's own name) serves that pool; the one picker
 * without a name (or the only picker) serves every other pool.
 */
function pickerAssignment(
  pickers: readonly EndpointPickerConfig[],
  docs: readonly InferencePool[],
  warnings: string[],
): (pool: string, doc: InferencePool | undefined) => EndpointPickerConfig | undefined {
  const nameOf = (p: EndpointPickerConfig) => (p as { metadata?: { name?: unknown } }).metadata?.name;
  const named = new Map<string, EndpointPickerConfig>();
  const unnamed: EndpointPickerConfig[] = [];
  for (const p of pickers) {
    const name = nameOf(p);
    if (typeof name !== "string" || name === "") unnamed.push(p);
    else if (named.has(name))
      throw new ConfigError({
        path: `EndpointPickerConfig/${name}`,
        expected: "one EndpointPickerConfig per metadata.name",
      });
    else named.set(name, p);
  }
  if (unnamed.length > 1)
    throw new ConfigError({
      path: "EndpointPickerConfig",
      expected:
        "at most one EndpointPickerConfig without metadata.name (it serves every pool no named one serves); name the others after the pool or its spec.endpointPickerRef.name",
    });
  const fallback = unnamed[0] ?? (pickers.length === 1 ? pickers[0] : undefined);
  const used = new Set<EndpointPickerConfig>();
  const assign = (pool: string, doc: InferencePool | undefined) => {
    const ref = doc?.spec.endpointPickerRef?.name;
    const p = (ref !== undefined ? named.get(ref) : undefined) ?? named.get(pool) ?? fallback;
    if (p) used.add(p);
    return p;
  };
  for (const d of docs) assign(d.metadata.name, d);
  for (const [name, p] of named)
    if (!used.has(p) && pickers.length > 1)
      warnings.push(
        `EndpointPickerConfig/${name} serves no pool: name it after an InferencePool or set that pool's spec.endpointPickerRef.name to '${name}'`,
      );
  return assign;
}

/**
 * The pool a static (or simulated) endpoint belongs to: its `pool` field, else the only
 * pool, else the first pool whose selector's labels the endpoint carries. undefined: none.
 */
export function poolOfEndpoint(
  e: Pick<StaticEndpoint, "labels" | "pool">,
  pools: readonly PoolConfig[],
): string | undefined {
  if (e.pool) return pools.some((p) => p.name === e.pool) ? e.pool : undefined;
  if (pools.length === 1) return pools[0]!.name;
  for (const p of pools) {
    const want = Object.entries(p.pool?.spec.selector.matchLabels ?? {});
    if (want.length > 0 && want.every(([k, v]) => e.labels[k] === v)) return p.name;
  }
  return undefined;
}
