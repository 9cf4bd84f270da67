import * as v from "valibot";
import { parseAllDocuments } from "yaml";
import { type AigwDoc, buildAigw, loneKeyValueDoc } from "../aigw/build.ts";
import { AIGW_KINDS } from "../aigw/schema.ts";
import type { AigwConfig } from "../aigw/types.ts";
import { type InferenceModelRewrite, parseRewrite, type RewriteTable } from "../rewrite/index.ts";
import { InferenceModelRewriteSchema } from "../rewrite/schema.ts";
import { isBbrConfigMap, readBbrConfigMap } from "./bbr.ts";
import { ConfigError } from "./errors.ts";
import { toConfigError } from "./issues.ts";
import { PICKER_EXTRAS, PickerConfigFields } from "./picker-fields.ts";
import { IMPLICIT_POOL, type PoolConfig, splitByPool } from "./pools.ts";
import {
  type EndpointPickerConfig,
  EndpointPickerConfigSchema,
  FileInferencePoolSchema,
  type InferenceObjective,
  InferenceObjectiveSchema,
  type InferencePool,
} from "./resources.ts";
import { defaultSettings, type Settings, SettingsSchema } from "./settings.ts";
import {
  type Allowed,
  closest,
  KUBERNETES_EXTRAS,
  rejectUnknownFields,
  STANDARD_METADATA,
} from "./strict.ts";

/**
 * Everything one config file says, validated. Immutable once built; swapped whole on reload.
 * `pools` holds each served pool's part; `pool`, `objectives`, `rewrites`, `rewriteTable` and
 * `pickerConfig` are one pool's (the first's here; a pool's own view, `poolView`, for the
 * per-pool parts of the gateway, which read the config as if their pool were the only one).
 */
export interface GatewayConfig {
  readonly file: string | undefined;
  readonly settings: Settings;
  /** Every pool served, in routing order (the first wins a tie); never empty. */
  readonly pools: readonly PoolConfig[];
  /** LoRA adapter → base model, from BBR's `bbr-managed` ConfigMaps (routing by the base model when no pod lists the adapter). */
  readonly baseModels: ReadonlyMap<string, string>;
  /** Every EndpointPickerConfig of the file (`splitByPool` assigns them; the cluster overlay re-splits). */
  readonly pickers: readonly EndpointPickerConfig[];
  readonly pool: InferencePool | undefined;
  readonly objectives: readonly InferenceObjective[];
  readonly rewrites: readonly InferenceModelRewrite[];
  readonly rewriteTable: RewriteTable;
  readonly pickerConfig: EndpointPickerConfig | undefined;
  /** Things the file says that are probably mistakes but load (logged at start-up and on reload). */
  readonly warnings: readonly string[];
  /** Envoy AI Gateway route rules and hosted backends (src/aigw/); undefined: routing is model → pool. */
  readonly routes?: AigwConfig | undefined;
}

function validate<S extends v.GenericSchema>(
  schema: S,
  doc: unknown,
  where: string,
  /** Fields allowed besides the schema's; null: unknown fields are tolerated. */
  allowed: Allowed | null = KUBERNETES_EXTRAS,
): v.InferOutput<S> {
  if (allowed) rejectUnknownFields(doc, schema, where, allowed);
  const result = v.safeParse(schema, doc);
  if (!result.success) throw toConfigError(result.issues, where);
  return result.output;
}

function docName(doc: Record<string, unknown>, index: number): string {
  const meta = doc["metadata"] as { name?: unknown } | undefined;
  const kind = String(doc["kind"]);
  return typeof meta?.name === "string" ? `${kind}/${meta.name}` : `${kind} (document ${index})`;
}

/** What parsing cannot know by itself. */
export interface ParseOptions {
  /**
   * Checks the EndpointPickerConfig's plugins against those the gateway will build (the
   * composition root has them; the loader imports no plugin). Absent: plugin types and
   * parameters are checked when the gateway is built (`createGateway`, `checkConfig`).
   */
  checkPicker?: (picker: EndpointPickerConfig | undefined) => void;
}

/** Parses and validates a config file's text. Throws ConfigError naming file, field path and expectation. */
export function parseConfig(text: string, file?: string, opts: ParseOptions = {}): GatewayConfig {
  try {
    return build(text, file, opts);
  } catch (err) {
    if (err instanceof ConfigError && file && !err.file) throw err.inFile(file);
    throw err;
  }
}

/** The document kinds a config file may hold. */
const KINDS = [
  "GatewayConfig",
  "InferencePool",
  "InferenceObjective",
  "InferenceModelRewrite",
  "EndpointPickerConfig",
];

/** A kind the file may not hold, with a near miss (Envoy AI Gateway's kinds are guessed too). */
function unknownKind(kind: unknown, index: number): ConfigError {
  const guess = typeof kind === "string" ? closest(kind, [...KINDS, ...AIGW_KINDS]) : undefined;
  return new ConfigError({
    path: `document ${index + 1} kind`,
    expected: `one of ${KINDS.join(", ")}, or Envoy AI Gateway's routing documents (${AIGW_KINDS.join(", ")}; Secrets, ConfigMaps and Gateways only beside an AIGatewayRoute)${guess ? ` (did you mean "${guess}"?)` : ""}`,
    received: JSON.stringify(kind),
  });
}

function build(text: string, file: string | undefined, opts: ParseOptions): GatewayConfig {
  let settings: Settings | undefined;
  const pools: InferencePool[] = [];
  const objectives: InferenceObjective[] = [];
  const rewrites: InferenceModelRewrite[] = [];
  const pickers: EndpointPickerConfig[] = [];
  const baseModels = new Map<string, string>();
  const aigwDocs: AigwDoc[] = [];

  const docs = parseAllDocuments(text, { prettyErrors: true });
  if (!Array.isArray(docs)) throw new ConfigError({ path: "", expected: "YAML documents" });
  docs.forEach((yamlDoc, index) => {
    const yamlError = yamlDoc.errors[0];
    if (yamlError)
      throw new ConfigError({ path: `document ${index + 1}`, expected: `valid YAML: ${yamlError.message}` });
    const doc = yamlDoc.toJS() as unknown;
    if (doc === null || doc === undefined) return; // empty document, e.g. a trailing `---`
    if (typeof doc !== "object" || Array.isArray(doc)) {
      throw new ConfigError({
        path: `document ${index + 1}`,
        expected: "a mapping with apiVersion and kind",
      });
    }
    const record = doc as Record<string, unknown>;
    const where = docName(record, index + 1);
    switch (record["kind"]) {
      case "GatewayConfig":
        if (settings) throw new ConfigError({ path: where, expected: "at most one GatewayConfig document" });
        settings = validate(SettingsSchema, doc, where, { metadata: STANDARD_METADATA });
        break;
      case "InferencePool":
        pools.push(validate(FileInferencePoolSchema, doc, where));
        break;
      case "InferenceObjective":
        objectives.push(validate(InferenceObjectiveSchema, doc, where));
        break;
      case "InferenceModelRewrite":
        rejectUnknownFields(doc, InferenceModelRewriteSchema, where, KUBERNETES_EXTRAS);
        rewrites.push(parseRewrite(doc));
        break;
      case "EndpointPickerConfig":
        // Unknown fields refused as upstream's strict decoding does; parameters are checked by each plugin.
        rejectUnknownFields(doc, PickerConfigFields, where, PICKER_EXTRAS);
        pickers.push(validate(EndpointPickerConfigSchema, doc, where, null));
        break;
      case "AIGatewayRoute":
      case "AIServiceBackend":
      case "BackendSecurityPolicy":
      case "Backend":
      case "BackendTLSPolicy":
      case "ConfigMap":
        // BBR's adapter → base model ConfigMaps; any other ConfigMap belongs to an AI Gateway route.
        if (isBbrConfigMap(record)) {
          readBbrConfigMap(record, where, baseModels);
          break;
        }
        aigwDocs.push({ kind: record["kind"], doc, where, index });
        break;
      case "Secret":
      case "GatewayClass":
      case "Gateway":
        aigwDocs.push({ kind: record["kind"], doc, where, index });
        break;
      default:
        throw unknownKind(record["kind"], index);
    }
  });
  // A Secret or ConfigMap belongs to an Envoy AI Gateway route; alone it is not a gateway document.
  const lone = loneKeyValueDoc(aigwDocs);
  if (lone) throw unknownKind(lone.kind, lone.index);

  if (
    !settings &&
    pools.length +
      objectives.length +
      rewrites.length +
      pickers.length +
      aigwDocs.length +
      baseModels.size ===
      0
  )
    throw new ConfigError({
      path: "",
      expected:
        "at least one document (GatewayConfig, InferencePool, ...): the file is empty or holds only comments",
    });
  const finalSettings = settings ?? defaultSettings();
  const names = servedPools(pools, finalSettings);
  const { pools: parts, warnings } = splitByPool({
    names: names.names,
    docs: pools,
    implicit: names.implicit,
    objectives,
    rewrites,
    pickers,
  });
  for (const p of parts) opts.checkPicker?.(p.pickerConfig);
  const routes = buildAigw(aigwDocs, {
    pools: parts.map((p) => p.name),
    discovery: finalSettings.kubernetes !== undefined,
    warnings,
  });
  const first = parts[0]!;
  return Object.freeze({
    file,
    settings: finalSettings,
    pools: parts,
    pickers,
    baseModels,
    ...poolFields(first),
    warnings,
    routes,
  });
}

/** The fields of GatewayConfig that are one pool's. */
function poolFields(p: PoolConfig) {
  return {
    pool: p.pool,
    objectives: p.objectives,
    rewrites: p.rewrites,
    rewriteTable: p.rewriteTable,
    pickerConfig: p.pickerConfig,
  };
}

/**
 * The config as one pool's parts see it: that pool's resources and picker config in the
 * single-pool fields. Same settings, same `pools`.
 */
export function poolView(config: GatewayConfig, pool: PoolConfig): GatewayConfig {
  return Object.freeze({ ...config, ...poolFields(pool) });
}

/**
 * The config with `pools` replaced (the cluster's pools laid over the file's) and the
 * single-pool fields following the first.
 */
export function withPools(config: GatewayConfig, pools: readonly PoolConfig[]): GatewayConfig {
  if (pools.length === 0) return config;
  return Object.freeze({ ...config, pools, ...poolFields(pools[0]!) });
}

/**
 * Which pools the gateway serves: the `pool` setting's alone, else every pool document in
 * file order; with none, the Kubernetes pool or the `pool` setting by name, else one
 * implicit pool that every resource and endpoint belongs to.
 */
function servedPools(
  docs: readonly InferencePool[],
  settings: Settings,
): { names: string[]; implicit: boolean } {
  if (settings.pool && docs.length > 0) {
    if (!docs.some((p) => p.metadata.name === settings.pool))
      throw new ConfigError({
        path: "GatewayConfig pool",
        expected: `an InferencePool named '${settings.pool}' in the file`,
      });
    return { names: [settings.pool], implicit: false };
  }
  if (docs.length > 0) {
    const seen = new Set<string>();
    for (const d of docs) {
      if (seen.has(d.metadata.name))
        throw new ConfigError({
          path: `InferencePool/${d.metadata.name}`,
          expected: "one InferencePool per name",
        });
      seen.add(d.metadata.name);
    }
    return { names: [...seen], implicit: false };
  }
  // Until the cluster answers, the first pool the settings name stands in (its resources wait with it).
  const listed = settings.kubernetes?.pools?.[0];
  const named =
    settings.kubernetes?.pool ??
    (listed ? listed.slice(listed.indexOf("/") + 1) : undefined) ??
    settings.pool;
  return named ? { names: [named], implicit: false } : { names: [IMPLICIT_POOL], implicit: true };
}
