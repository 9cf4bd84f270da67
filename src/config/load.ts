import * as v from "valibot";
import { parseAllDocuments } from "yaml";
import { type InferenceModelRewrite, parseRewrite, RewriteTable } from "../rewrite/index.ts";
import { InferenceModelRewriteSchema } from "../rewrite/schema.ts";
import { ConfigError } from "./errors.ts";
import { toConfigError } from "./issues.ts";
import { PICKER_EXTRAS, PickerConfigFields } from "./picker-fields.ts";
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

/** Everything one config file says, validated. Immutable once built; swapped whole on reload. */
export interface GatewayConfig {
  readonly file: string | undefined;
  readonly settings: Settings;
  readonly pool: InferencePool | undefined;
  readonly objectives: readonly InferenceObjective[];
  readonly rewrites: readonly InferenceModelRewrite[];
  readonly rewriteTable: RewriteTable;
  readonly pickerConfig: EndpointPickerConfig | undefined;
  /** Things the file says that are probably mistakes but load (logged at start-up and on reload). */
  readonly warnings: readonly string[];
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

function build(text: string, file: string | undefined, opts: ParseOptions): GatewayConfig {
  let settings: Settings | undefined;
  const pools: InferencePool[] = [];
  const objectives: InferenceObjective[] = [];
  const rewrites: InferenceModelRewrite[] = [];
  let pickerConfig: EndpointPickerConfig | undefined;

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
        if (pickerConfig)
          throw new ConfigError({ path: where, expected: "at most one EndpointPickerConfig" });
        // Unknown fields refused as upstream's strict decoding does; parameters are checked by each plugin.
        rejectUnknownFields(doc, PickerConfigFields, where, PICKER_EXTRAS);
        pickerConfig = validate(EndpointPickerConfigSchema, doc, where, null);
        break;
      default: {
        const guess = typeof record["kind"] === "string" ? closest(record["kind"], KINDS) : undefined;
        throw new ConfigError({
          path: `document ${index + 1} kind`,
          expected: `one of ${KINDS.join(", ")}${guess ? ` (did you mean "${guess}"?)` : ""}`,
          received: JSON.stringify(record["kind"]),
        });
      }
    }
  });

  if (!settings && pools.length + objectives.length + rewrites.length === 0 && !pickerConfig)
    throw new ConfigError({
      path: "",
      expected:
        "at least one document (GatewayConfig, InferencePool, ...): the file is empty or holds only comments",
    });
  const finalSettings = settings ?? defaultSettings();
  // With Kubernetes discovery the pool lives in the cluster; the file need not define it.
  const pool =
    finalSettings.kubernetes && pools.length === 0 ? undefined : selectPool(pools, finalSettings.pool);
  const poolName = pool?.metadata.name ?? finalSettings.kubernetes?.pool ?? finalSettings.pool;
  const warnings: string[] = [];
  const mine = <T extends { metadata: { name: string }; spec: { poolRef: { name: string } } }>(
    xs: T[],
    kind: string,
  ) => {
    if (!poolName) return xs;
    return xs.filter((x) => {
      const warning = foreignPool(`${kind}/${x.metadata.name}`, x.spec.poolRef.name, poolName, pools);
      if (warning) warnings.push(warning);
      return !warning;
    });
  };
  const myRewrites = mine(rewrites, "InferenceModelRewrite");
  const myObjectives = mine(objectives, "InferenceObjective");
  opts.checkPicker?.(pickerConfig);
  return Object.freeze({
    file,
    settings: finalSettings,
    pool,
    objectives: myObjectives,
    rewrites: myRewrites,
    rewriteTable: RewriteTable.build(myRewrites),
    pickerConfig,
    warnings,
  });
}

/** Why a resource whose poolRef names another pool is left out (undefined: it is for this pool). */
function foreignPool(
  resource: string,
  ref: string,
  poolName: string,
  pools: readonly InferencePool[],
): string | undefined {
  if (ref === poolName) return undefined;
  const names = pools.map((p) => p.metadata.name);
  if (names.includes(ref))
    return `${resource} is for InferencePool '${ref}', not '${poolName}' (the pool this gateway fronts): ignored`;
  const guess = closest(ref, [poolName, ...names]);
  return `${resource} spec.poolRef.name '${ref}' names no InferencePool${guess ? ` (did you mean '${guess}'?)` : ""}: ignored; this gateway fronts '${poolName}'`;
}

function selectPool(pools: InferencePool[], wanted: string | undefined): InferencePool | undefined {
  if (wanted) {
    const pool = pools.find((p) => p.metadata.name === wanted);
    if (!pool)
      throw new ConfigError({
        path: "GatewayConfig pool",
        expected: `an InferencePool named '${wanted}' in the file`,
      });
    return pool;
  }
  if (pools.length > 1) {
    throw new ConfigError({
      path: "GatewayConfig pool",
      expected: "the name of one pool: the file defines several",
    });
  }
  return pools[0];
}
