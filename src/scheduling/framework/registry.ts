import * as v from "valibot";
import type { Clock, Random } from "../../clock.ts";
import { ConfigError } from "../../config/errors.ts";
import { expectedOf, issuePath } from "../../config/issues.ts";
import { closest } from "../../config/strict.ts";
import type { PrefixIndex } from "../prefix/prefix-index.ts";
import type { SchedulingPlugin } from "./interfaces.ts";

/** What factories may use besides their parameters; per-request data comes from the context instead. */
export interface PluginDeps {
  readonly random: Random;
  readonly clock: Clock;
  /** The pool's shared prefix index (prefix-cache-scorer). */
  readonly prefixIndex: PrefixIndex;
  /**
   * The data producers already built from the same config (they are built first), by
   * name; a consumer such as prefix-cache-scorer reads its settings from one.
   */
  readonly producers?: ReadonlyMap<string, SchedulingPlugin>;
}

/** Builds one plugin instance; throws `ParameterError` (via `parseParameters`) on bad parameters. */
export type PluginFactory = (name: string, parameters: unknown, deps: PluginDeps) => SchedulingPlugin;

/** A parameter problem relative to the plugin's `parameters`; the registry adds where the plugin is. */
export class ParameterError extends Error {
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly received?: string,
  ) {
    super(`${path || "parameters"}: ${expected}`);
    this.name = "ParameterError";
  }
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (value !== null && typeof value === "object") return "an object";
  return JSON.stringify(value);
}

/** Validates `parameters` (absent = `{}`) with a valibot schema, or throws a ParameterError naming the field. */
export function parseParameters<S extends v.GenericSchema>(schema: S, parameters: unknown): v.InferOutput<S> {
  const result = v.safeParse(schema, parameters ?? {});
  if (result.success) return result.output;
  // An unknown field first (a typo usually explains the rest), else the first problem.
  const unknown = (i: v.BaseIssue<unknown>) => i.type === "strict_object" && i.expected === "never";
  const issue = result.issues.find(unknown) ?? result.issues[0];
  if (issue === undefined) throw new ParameterError("", "valid parameters");
  const path = issuePath(issue);
  // The parameters object's own fields (through a `v.pipe` of checks, if any).
  const top = "entries" in schema ? schema : (schema as { pipe?: unknown[] }).pipe?.[0];
  if (unknown(issue)) {
    const nested =
      (issue.path?.length ?? 0) > 1 || typeof top !== "object" || top === null || !("entries" in top);
    if (nested) throw new ParameterError(path, "no such field here (unknown field)");
    const known = Object.keys((top as { entries: object }).entries);
    const key = issue.path?.at(-1)?.key;
    const guess = typeof key === "string" ? closest(key, known) : undefined;
    const expected = known.length
      ? `a known parameter${guess ? ` (did you mean "${guess}"?)` : ""} (one of: ${known.join(", ")})`
      : "no parameters";
    throw new ParameterError(path, expected);
  }
  // In the gateway's words, not valibot's ("Invalid type: Expected ... but received ...").
  throw new ParameterError(path, expectedOf(issue), describe(issue.input));
}

/** A factory whose parameters are validated by `schema` before `build` sees them. */
export function withParameters<S extends v.GenericSchema>(
  schema: S,
  build: (name: string, params: v.InferOutput<S>, deps: PluginDeps) => SchedulingPlugin,
): PluginFactory {
  return (name, parameters, deps) => build(name, parseParameters(schema, parameters), deps);
}

/** A plugin type that exists upstream but is not built here: refused with its own message. */
export interface UnsupportedType {
  readonly type: string;
  /** The upstream release that has it, e.g. `llm-d-router v0.10`. */
  readonly since: string;
  /** What it needs that this gateway lacks (P/D, KV events, ...), when that is the reason. */
  readonly needs?: string;
}

/** A built-in plugin module's export: its YAML type and factory. */
export interface PluginDefinition {
  readonly type: string;
  readonly factory: PluginFactory;
  /** A data producer: built before the other plugins, which may read it (`deps.producers`). */
  readonly producer?: boolean;
}

/**
 * Type -> factory, filled at the composition root (`plugins/index.ts`). An instance per
 * gateway; no module-global registry. It also knows the types other subsystems build
 * from the same `plugins:` list (flow control's), which scheduling skips.
 */
export class PluginRegistry {
  private readonly factories = new Map<string, PluginFactory>();
  private readonly producerTypes = new Set<string>();
  private readonly foreignTypes = new Set<string>();
  private readonly unsupported = new Map<string, UnsupportedType>();

  /** Upstream types this gateway does not build: a config naming one gets a clear refusal. */
  declareUnsupported(types: Iterable<UnsupportedType>): this {
    for (const t of types) this.unsupported.set(t.type, t);
    return this;
  }

  /** Types another subsystem (flow control) owns: scheduling skips them instead of refusing them. */
  declareForeign(types: Iterable<string>): this {
    for (const t of types) this.foreignTypes.add(t);
    return this;
  }

  /** The types declared with `declareForeign`. */
  foreign(): ReadonlySet<string> {
    return this.foreignTypes;
  }

  register(type: string, factory: PluginFactory, opts: { producer?: boolean } = {}): this {
    if (this.factories.has(type)) throw new Error(`plugin type ${type} is already registered`);
    this.factories.set(type, factory);
    if (opts.producer) this.producerTypes.add(type);
    return this;
  }

  /** True for data producers (built first, readable by the plugins built after them). */
  isProducer(type: string): boolean {
    return this.producerTypes.has(type);
  }

  has(type: string): boolean {
    return this.factories.has(type);
  }

  types(): string[] {
    return [...this.factories.keys()].sort();
  }

  /**
   * Builds a plugin. `where` names it for errors, e.g.
   * `EndpointPickerConfig plugins[2] (prefix-cache-scorer)`; unknown types and bad
   * parameters become a ConfigError under that path.
   */
  create(
    spec: { type: string; name: string; parameters?: unknown },
    deps: PluginDeps,
    where: string,
  ): SchedulingPlugin {
    const factory = this.factories.get(spec.type);
    const missing = this.unsupported.get(spec.type);
    if (factory === undefined && missing !== undefined) {
      throw new ConfigError({
        path: `${where}.type`,
        expected: missing.needs
          ? `needs ${missing.needs} (${spec.type} is upstream since ${missing.since}); remove it or wait for that support`
          : `not supported by this gateway (upstream since ${missing.since}); remove it or use a built-in (one of: ${this.types().join(", ")})`,
        received: JSON.stringify(spec.type),
      });
    }
    if (factory === undefined) {
      const guess = closest(spec.type, [...this.types(), ...this.foreignTypes, ...this.unsupported.keys()]);
      throw new ConfigError({
        path: `${where}.type`,
        expected: `unknown plugin type${guess ? `; did you mean "${guess}"?` : ""} (known: ${this.types().join(", ")})`,
        received: JSON.stringify(spec.type),
      });
    }
    try {
      return factory(spec.name, spec.parameters, deps);
    } catch (err) {
      if (!(err instanceof ParameterError)) throw err;
      const sub = err.path === "" ? "" : err.path.startsWith("[") ? err.path : `.${err.path}`;
      throw new ConfigError({
        path: `${where}.parameters${sub}`,
        expected: err.expected,
        ...(err.received !== undefined ? { received: err.received } : {}),
      });
    }
  }
}
