/**
 * Static checks of deploy/crds/ (no API server here): every file is a well-formed,
 * structural CustomResourceDefinition, and the resources users apply validate against the
 * CRD schemas. The validator below implements the OpenAPI v3 subset the CRDs use, applies
 * defaults first (as the API server does before validating), rejects unknown fields (as
 * `kubectl apply`'s strict field validation does), and evaluates each CEL rule through a
 * hand-written equivalent: a CRD rule without one fails the test.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import * as v from "valibot";
import { parse, parseAllDocuments } from "yaml";
import { InferenceObjectiveSchema, InferencePoolSchema } from "../../src/config/resources.ts";
import { InferenceModelRewriteSchema } from "../../src/rewrite/schema.ts";

const ROOT = resolve(import.meta.dir, "../..");
const CRDS = join(ROOT, "deploy/crds");

// ---------------------------------------------------------------------------------------------
// The OpenAPI v3 subset, and a validator for it

interface Schema {
  type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: Schema | boolean;
  items?: Schema;
  enum?: unknown[];
  default?: unknown;
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-validations"?: { rule: string; message?: string }[];
}

/** The schema keywords this file understands; a CRD using another one fails the structural test. */
const KEYWORDS = new Set([
  "type",
  "description",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "enum",
  "default",
  "format",
  "pattern",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
  "minItems",
  "maxItems",
  "minProperties",
  "maxProperties",
  "x-kubernetes-preserve-unknown-fields",
  "x-kubernetes-list-type",
  "x-kubernetes-list-map-keys",
  "x-kubernetes-validations",
]);

type Json = Record<string, unknown>;
const isObject = (x: unknown): x is Json => typeof x === "object" && x !== null && !Array.isArray(x);

/** Each CEL rule the CRDs use, as JavaScript, evaluated on the defaulted value (like the API server). */
const CEL: Record<string, (self: unknown) => boolean> = {
  // InferencePool spec.targetPorts: unique port numbers.
  "self.all(p1, self.exists_one(p2, p1.number==p2.number))": (self) => {
    const ports = (self as { number: unknown }[]).map((p) => p.number);
    return ports.every((n) => ports.filter((m) => m === n).length === 1);
  },
  // InferencePool spec.endpointPickerRef: a Service (the default kind) needs a port.
  "self.kind != 'Service' || has(self.port)": (self) => {
    const ref = self as { kind?: unknown; port?: unknown };
    return ref.kind !== "Service" || ref.port !== undefined;
  },
};

const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };

function typeOk(type: Schema["type"], x: unknown): boolean {
  switch (type) {
    case "object":
      return isObject(x);
    case "array":
      return Array.isArray(x);
    case "string":
      return typeof x === "string";
    case "integer":
      return Number.isInteger(x);
    case "number":
      return typeof x === "number" && Number.isFinite(x);
    case "boolean":
      return typeof x === "boolean";
    default:
      return true;
  }
}

/**
 * Validates `value` against `schema`, pushing "path: problem" strings into `errors`.
 * Returns the value with defaults applied (absent properties that have a default).
 */
function check(value: unknown, schema: Schema, path: string, errors: string[]): unknown {
  const at = path || "<root>";
  if (!typeOk(schema.type, value)) {
    errors.push(`${at}: expected ${schema.type}, got ${JSON.stringify(value)}`);
    return value;
  }
  if (schema.enum && !schema.enum.includes(value))
    errors.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);

  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum)
      errors.push(`${at}: ${value} is less than the minimum ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum)
      errors.push(`${at}: ${value} is more than the maximum ${schema.maximum}`);
    if (schema.format === "int32" && (value < INT32.min || value > INT32.max))
      errors.push(`${at}: ${value} is not an int32`);
  }

  if (typeof value === "string") {
    const n = [...value].length;
    if (schema.minLength !== undefined && n < schema.minLength)
      errors.push(`${at}: shorter than minLength ${schema.minLength}`);
    if (schema.maxLength !== undefined && n > schema.maxLength)
      errors.push(`${at}: longer than maxLength ${schema.maxLength}`);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, "u").test(value))
      errors.push(`${at}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
    if (schema.format === "date-time" && Number.isNaN(Date.parse(value)))
      errors.push(`${at}: ${JSON.stringify(value)} is not a date-time`);
  }

  let result = value;
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems)
      errors.push(`${at}: fewer than minItems ${schema.minItems} (${value.length})`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems)
      errors.push(`${at}: more than maxItems ${schema.maxItems} (${value.length})`);
    const items = schema.items;
    result = items ? value.map((x, i) => check(x, items, `${path}[${i}]`, errors)) : value;
    const listType = schema["x-kubernetes-list-type"];
    if (listType === "set" || listType === "map") {
      const keys = schema["x-kubernetes-list-map-keys"] ?? [];
      const ids = (result as unknown[]).map((x) =>
        JSON.stringify(listType === "map" && isObject(x) ? keys.map((k) => x[k]) : x),
      );
      if (new Set(ids).size !== ids.length)
        errors.push(`${at}: duplicate entries in a list of type ${listType}`);
    }
  }

  if (isObject(value)) {
    const out: Json = {};
    const props = schema.properties ?? {};
    for (const [k, s] of Object.entries(props))
      if (value[k] === undefined && s.default !== undefined) out[k] = structuredClone(s.default);
    for (const [k, x] of Object.entries(value)) {
      const p = path ? `${path}.${k}` : k;
      const s = props[k] ?? (isObject(schema.additionalProperties) ? schema.additionalProperties : undefined);
      if (s) out[k] = check(x, s, p, errors);
      else if (schema.properties && !schema["x-kubernetes-preserve-unknown-fields"])
        errors.push(`${p}: unknown field`);
      else out[k] = x;
    }
    for (const k of schema.required ?? [])
      if (out[k] === undefined) errors.push(`${path ? `${path}.${k}` : k}: required`);
    const n = Object.keys(value).length;
    if (schema.minProperties !== undefined && n < schema.minProperties)
      errors.push(`${at}: fewer than minProperties ${schema.minProperties} (${n})`);
    if (schema.maxProperties !== undefined && n > schema.maxProperties)
      errors.push(`${at}: more than maxProperties ${schema.maxProperties} (${n})`);
    result = out;
  }

  for (const { rule, message } of schema["x-kubernetes-validations"] ?? []) {
    const fn = CEL[rule];
    if (!fn) errors.push(`${at}: no JavaScript equivalent for CEL rule ${rule}`);
    else if (!fn(result)) errors.push(`${at}: ${message ?? `failed ${rule}`}`);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// The CRDs

interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  subresources?: { status?: Json };
  additionalPrinterColumns?: { name: string; type: string; jsonPath: string }[];
  schema?: { openAPIV3Schema?: Schema };
}
interface Crd {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  spec: {
    group: string;
    scope: string;
    names: { kind: string; listKind: string; plural: string; singular: string; shortNames?: string[] };
    versions: CrdVersion[];
  };
}
interface Located<T> {
  file: string;
  doc: T;
}

function loadYaml(path: string): Json[] {
  const file = relative(ROOT, path);
  return parseAllDocuments(readFileSync(path, "utf8")).flatMap((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0]?.message}`);
    const doc = d.toJS() as unknown;
    return isObject(doc) ? [doc] : [];
  });
}

const crdFiles = readdirSync(CRDS)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const crds: Located<Crd>[] = crdFiles.flatMap((f) =>
  loadYaml(join(CRDS, f)).map((doc) => ({ file: f, doc: doc as unknown as Crd })),
);

/** `${group}/${version} ${kind}` -> the served schema. */
const schemas = new Map<string, Schema>(
  crds.flatMap(({ doc }) =>
    doc.spec.versions
      .filter((ver) => ver.served && ver.schema?.openAPIV3Schema)
      .map((ver) => [`${doc.spec.group}/${ver.name} ${doc.spec.names.kind}`, ver.schema!.openAPIV3Schema!]),
  ),
);

/** Validates a resource document against the CRD that serves its apiVersion and kind. */
function validate(doc: Json): { errors: string[]; value: Json } {
  const key = `${doc["apiVersion"]} ${doc["kind"]}`;
  const schema = schemas.get(key);
  if (!schema) return { errors: [`no CRD in deploy/crds/ serves ${key}`], value: doc };
  const errors: string[] = [];
  const value = check(doc, schema, "", errors) as Json;
  return { errors, value };
}

/** Every schema node with its path, depth first. */
function* nodes(schema: Schema, path: string): Generator<[string, Schema]> {
  yield [path, schema];
  for (const [k, s] of Object.entries(schema.properties ?? {})) yield* nodes(s, `${path}.${k}`);
  if (isObject(schema.additionalProperties)) yield* nodes(schema.additionalProperties, `${path}.*`);
  if (schema.items) yield* nodes(schema.items, `${path}[]`);
}

const EXPECTED = [
  "inferencepools.inference.networking.k8s.io",
  "inferenceobjectives.inference.networking.x-k8s.io",
  "inferenceobjectives.llm-d.ai",
  "inferencemodelrewrites.inference.networking.x-k8s.io",
  "inferencemodelrewrites.llm-d.ai",
];

describe("deploy/crds/: the files", () => {
  test("one CRD per file, the five the gateway reads", () => {
    expect(crdFiles).toHaveLength(EXPECTED.length);
    for (const f of crdFiles)
      expect(
        crds.filter((c) => c.file === f),
        f,
      ).toHaveLength(1);
    expect(crds.map((c) => c.doc.metadata.name).sort()).toEqual([...EXPECTED].sort());
    for (const { file, doc } of crds) expect(file).toBe(`${doc.spec.group}_${doc.spec.names.plural}.yaml`);
  });

  test("the Kustomization lists exactly those files (and is not a *.yaml `kubectl apply -f` would read)", () => {
    const k = parse(readFileSync(join(CRDS, "Kustomization"), "utf8")) as Json;
    expect(k["apiVersion"]).toBe("kustomize.config.k8s.io/v1beta1");
    expect(k["kind"]).toBe("Kustomization");
    const resources = k["resources"] as string[];
    expect([...resources].sort()).toEqual(crdFiles);
    for (const r of resources) expect(existsSync(join(CRDS, r)), r).toBe(true);
    for (const name of ["kustomization.yaml", "kustomization.yml"])
      expect(existsSync(join(CRDS, name)), name).toBe(false);
  });
});

describe("deploy/crds/: each CRD", () => {
  for (const { file, doc } of crds) {
    describe(file, () => {
      const { group, names, versions } = doc.spec;

      test("is an apiextensions.k8s.io/v1 CRD named plural.group, namespaced", () => {
        expect(doc.apiVersion).toBe("apiextensions.k8s.io/v1");
        expect(doc.kind).toBe("CustomResourceDefinition");
        expect(doc.metadata.name).toBe(`${names.plural}.${group}`);
        expect(doc.spec.scope).toBe("Namespaced");
        expect(names.listKind).toBe(`${names.kind}List`);
        expect(names.plural).toBe(names.plural.toLowerCase());
        expect(names.singular).toBe(names.kind.toLowerCase());
      });

      test("a group under k8s.io / kubernetes.io carries the api-approved annotation", () => {
        if (!/(^|\.)(k8s|kubernetes)\.io$/.test(group)) return;
        expect(doc.metadata.annotations?.["api-approved.kubernetes.io"]).toMatch(/^(https:\/\/|unapproved)/);
      });

      test("exactly one storage version; every version served, with a status subresource", () => {
        expect(versions.filter((ver) => ver.storage)).toHaveLength(1);
        for (const ver of versions) {
          expect(ver.served, ver.name).toBe(true);
          expect(ver.subresources?.status, ver.name).toEqual({});
        }
      });

      for (const ver of versions) {
        test(`${ver.name}: the schema is structural and uses only what the validator checks`, () => {
          const root = ver.schema?.openAPIV3Schema;
          expect(root?.type).toBe("object");
          const props = root!.properties!;
          expect(Object.keys(props).sort()).toEqual(["apiVersion", "kind", "metadata", "spec", "status"]);
          expect(props["metadata"]).toEqual({ type: "object" });
          expect(props["spec"]!.type).toBe("object");
          expect(props["status"]!.type).toBe("object");

          for (const [path, s] of nodes(root!, "")) {
            const where = path || "<root>";
            for (const key of Object.keys(s))
              expect(KEYWORDS.has(key), `${where}: keyword ${key}`).toBe(true);
            expect(s.type, `${where}: type`).toBeDefined();
            if (s.description !== undefined)
              expect(s.description, `${where}: description`).not.toContain("\n");
            if (s.properties && s.additionalProperties !== undefined)
              throw new Error(`${where}: both properties and additionalProperties`);
            if (s.type === "object" && path !== ".metadata") {
              const open =
                s.properties || s.additionalProperties || s["x-kubernetes-preserve-unknown-fields"];
              expect(open, `${where}: an object with no properties prunes everything`).toBeTruthy();
            }
            for (const r of s.required ?? [])
              expect(s.properties?.[r], `${where}: required ${r}`).toBeDefined();
            for (const e of s.enum ?? []) expect(typeOk(s.type, e), `${where}: enum ${e}`).toBe(true);
            if (s.default !== undefined) {
              const errors: string[] = [];
              check(s.default, s, where, errors);
              expect(errors, `${where}: default`).toEqual([]);
            }
            if (s["x-kubernetes-list-type"] === "map") {
              const keys = s["x-kubernetes-list-map-keys"] ?? [];
              expect(keys.length, `${where}: list-map-keys`).toBeGreaterThan(0);
              for (const k of keys) expect(s.items?.required ?? [], `${where}: map key ${k}`).toContain(k);
            }
            for (const { rule } of s["x-kubernetes-validations"] ?? [])
              expect(CEL[rule], `${where}: CEL rule ${rule} has a JavaScript equivalent`).toBeDefined();
          }
        });

        test(`${ver.name}: printer columns point at fields of the schema`, () => {
          for (const col of ver.additionalPrinterColumns ?? []) {
            if (col.jsonPath === ".metadata.creationTimestamp") {
              expect(col.type).toBe("date");
              continue;
            }
            let s: Schema | undefined = ver.schema!.openAPIV3Schema;
            for (const part of col.jsonPath.split(".").slice(1)) s = s?.properties?.[part];
            expect(s, col.jsonPath).toBeDefined();
            expect(col.type, col.jsonPath).toBe(s!.type!);
          }
        });
      }
    });
  }

  test("the llm-d.ai CRDs are the inference.networking.x-k8s.io ones under another group", () => {
    for (const plural of ["inferenceobjectives", "inferencemodelrewrites"]) {
      const x = crds.find((c) => c.doc.metadata.name === `${plural}.inference.networking.x-k8s.io`)!.doc;
      const d = crds.find((c) => c.doc.metadata.name === `${plural}.llm-d.ai`)!.doc;
      expect(d.spec.names).toEqual(x.spec.names);
      expect(d.spec.versions).toEqual(x.spec.versions);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Resources against the CRDs

const GATEWAY_KINDS = new Set(["InferencePool", "InferenceObjective", "InferenceModelRewrite"]);

function resourcesIn(path: string): Located<Json>[] {
  return loadYaml(path)
    .filter((doc) => GATEWAY_KINDS.has(doc["kind"] as string))
    .map((doc) => ({ file: relative(ROOT, path), doc }));
}

const deployExamples = readdirSync(join(ROOT, "deploy/examples"))
  .filter((f) => /\.ya?ml$/.test(f))
  .flatMap((f) => resourcesIn(join(ROOT, "deploy/examples", f)));
const quickstart = resourcesIn(join(ROOT, "examples/quickstart.yaml"));

/**
 * The canary split of GIE's user guide (LoRA adapter rollout, "90 / 10 split"), in both
 * groups: clients keep asking for one name while traffic moves between two adapters.
 */
const guideCanary = (group: string): Json => ({
  apiVersion: `${group}/v1alpha2`,
  kind: "InferenceModelRewrite",
  metadata: { name: "qwen-uncensored-rewrite" },
  spec: {
    poolRef: { group: "inference.networking.k8s.io", name: "vllm-qwen3-32b" },
    rules: [
      {
        matches: [{ model: { type: "Exact", value: "qwen-uncensored" } }],
        targets: [
          { modelRewrite: "qwen-uncensored-v1", weight: 90 },
          { modelRewrite: "qwen-uncensored-v2", weight: 10 },
        ],
      },
    ],
  },
});

/** What the gateway's own valibot schema says about a document (for the agreement checks). */
function gatewayAccepts(doc: Json): boolean {
  switch (doc["kind"]) {
    case "InferencePool":
      return v.safeParse(InferencePoolSchema, doc).success;
    case "InferenceObjective":
      return v.safeParse(InferenceObjectiveSchema, doc).success;
    case "InferenceModelRewrite":
      return v.safeParse(InferenceModelRewriteSchema, doc).success;
    default:
      throw new Error(`not a gateway kind: ${doc["kind"]}`);
  }
}

describe("resources users apply validate against the CRDs", () => {
  test("the examples under deploy/examples/: InferencePool, InferenceObjectives, InferenceModelRewrite", () => {
    expect(new Set(deployExamples.map((e) => e.doc["kind"]))).toEqual(GATEWAY_KINDS);
    for (const { file, doc } of deployExamples) {
      const { errors } = validate(doc);
      expect(errors, `${file}: ${doc["kind"]}/${(doc["metadata"] as Json)["name"]}`).toEqual([]);
    }
  });

  test("the resources of examples/quickstart.yaml", () => {
    expect(quickstart.length).toBeGreaterThan(0);
    for (const { file, doc } of quickstart) {
      const { errors } = validate(doc);
      expect(errors, `${file}: ${doc["kind"]}/${(doc["metadata"] as Json)["name"]}`).toEqual([]);
    }
  });

  test("GIE's user-guide canary (90/10 split), in both API groups", () => {
    for (const group of ["inference.networking.x-k8s.io", "llm-d.ai"]) {
      const { errors, value } = validate(guideCanary(group));
      expect(errors, group).toEqual([]);
      const spec = value["spec"] as { poolRef: Json; rules: { matches: { model: Json }[] }[] };
      expect(spec.poolRef["kind"]).toBe("InferencePool");
      expect(spec.rules[0]!.matches[0]!.model["type"]).toBe("Exact");
      expect(gatewayAccepts(value)).toBe(true);
    }
  });

  test("CRD defaults are the gateway's defaults", () => {
    const pool = validate({
      apiVersion: "inference.networking.k8s.io/v1",
      kind: "InferencePool",
      metadata: { name: "p" },
      spec: {
        selector: { matchLabels: { app: "vllm" } },
        targetPorts: [{ number: 8000 }],
        endpointPickerRef: { name: "epp", port: { number: 9002 } },
      },
    });
    expect(pool.errors).toEqual([]);
    const parsed = v.parse(InferencePoolSchema, pool.value);
    const bare = v.parse(InferencePoolSchema, {
      apiVersion: "inference.networking.k8s.io/v1",
      kind: "InferencePool",
      metadata: { name: "p" },
      spec: {
        selector: { matchLabels: { app: "vllm" } },
        targetPorts: [{ number: 8000 }],
        endpointPickerRef: {},
      },
    });
    expect(parsed.spec.appProtocol).toBe(bare.spec.appProtocol);
    expect(parsed.spec.endpointPickerRef?.failureMode).toBe(bare.spec.endpointPickerRef!.failureMode);

    const objective = validate({
      apiVersion: "llm-d.ai/v1alpha2",
      kind: "InferenceObjective",
      metadata: { name: "o" },
      spec: { poolRef: { name: "p" } },
    });
    expect(objective.errors).toEqual([]);
    const ref = (objective.value["spec"] as { poolRef: Json }).poolRef;
    const gatewayRef = v.parse(InferenceObjectiveSchema, {
      apiVersion: "llm-d.ai/v1alpha2",
      kind: "InferenceObjective",
      metadata: { name: "o" },
      spec: { poolRef: { name: "p" } },
    }).spec.poolRef;
    expect(ref).toEqual({ group: gatewayRef.group, kind: gatewayRef.kind, name: "p" });
  });
});

// ---------------------------------------------------------------------------------------------
// Negative cases: each must be rejected by the CRD, at the path given

const pool = (spec: Json): Json => ({
  apiVersion: "inference.networking.k8s.io/v1",
  kind: "InferencePool",
  metadata: { name: "p", namespace: "llm" },
  spec: { selector: { matchLabels: { app: "vllm" } }, targetPorts: [{ number: 8000 }], ...spec },
});
const objective = (spec: Json): Json => ({
  apiVersion: "inference.networking.x-k8s.io/v1alpha2",
  kind: "InferenceObjective",
  metadata: { name: "o", namespace: "llm" },
  spec,
});
const target = (t: Json): Json[] => [{ matches: [{ model: { value: "m" } }], targets: [t] }];
const rewrite = (spec: Json, group = "inference.networking.x-k8s.io"): Json => ({
  apiVersion: `${group}/v1alpha2`,
  kind: "InferenceModelRewrite",
  metadata: { name: "r", namespace: "llm" },
  spec: { poolRef: { name: "p" }, rules: target({ modelRewrite: "m-v1" }), ...spec },
});
const ports = (...ns: number[]) => ns.map((number) => ({ number }));

/** [what, document, a path the error must name, whether the gateway's own schema rejects it too]. */
const REJECTED: [string, Json, string, boolean][] = [
  ["a target weight of 0", rewrite({ rules: target({ modelRewrite: "a", weight: 0 }) }), "weight", true],
  [
    "a weight over 1,000,000",
    rewrite({ rules: target({ modelRewrite: "a", weight: 1_000_001 }) }),
    "weight",
    true,
  ],
  ["a fractional weight", rewrite({ rules: target({ modelRewrite: "a", weight: 1.5 }) }), "weight", true],
  ["a rewrite without poolRef", rewrite({ poolRef: undefined }), "spec.poolRef", true],
  ["an llm-d.ai rewrite without poolRef", rewrite({ poolRef: undefined }, "llm-d.ai"), "spec.poolRef", true],
  ["a rewrite without rules", rewrite({ rules: undefined }), "spec.rules", true],
  ["a rule without targets", rewrite({ rules: [{ matches: [], targets: [] }] }), "targets", true],
  ["an empty modelRewrite", rewrite({ rules: target({ modelRewrite: "" }) }), "modelRewrite", true],
  [
    "a Prefix match",
    rewrite({
      rules: [{ matches: [{ model: { type: "Prefix", value: "m" } }], targets: [{ modelRewrite: "a" }] }],
    }),
    "model.type",
    true,
  ],
  [
    "an empty match value",
    rewrite({ rules: [{ matches: [{ model: { value: "" } }], targets: [{ modelRewrite: "a" }] }] }),
    "model.value",
    true,
  ],
  ["an objective without poolRef", objective({ priority: 1 }), "spec.poolRef", true],
  ["a poolRef without name", objective({ poolRef: { kind: "InferencePool" } }), "poolRef.name", true],
  [
    "a priority beyond int32",
    objective({ priority: 2 ** 31, poolRef: { name: "p" } }),
    "spec.priority",
    true,
  ],
  ["a string priority", objective({ priority: "high", poolRef: { name: "p" } }), "spec.priority", true],
  [
    "9 target ports",
    pool({ targetPorts: ports(8000, 8001, 8002, 8003, 8004, 8005, 8006, 8007, 8008) }),
    "targetPorts",
    true,
  ],
  ["no target ports", pool({ targetPorts: [] }), "targetPorts", true],
  ["a repeated target port", pool({ targetPorts: ports(8000, 8000) }), "targetPorts", true],
  ["port 0", pool({ targetPorts: ports(0) }), "targetPorts[0].number", true],
  ["port 65536", pool({ targetPorts: ports(65536) }), "targetPorts[0].number", true],
  ["an empty matchLabels", pool({ selector: { matchLabels: {} } }), "matchLabels", true],
  [
    "65 labels",
    pool({
      selector: { matchLabels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"])) },
    }),
    "matchLabels",
    true,
  ],
  ["a pool without selector", pool({ selector: undefined }), "spec.selector", true],
  ["appProtocol grpc", pool({ appProtocol: "grpc" }), "appProtocol", true],
  [
    "failureMode Open",
    pool({ endpointPickerRef: { name: "e", port: { number: 9002 }, failureMode: "Open" } }),
    "failureMode",
    true,
  ],
  // Upstream rules the gateway itself does not need (it is its own picker, and tolerates extra fields).
  [
    "an endpointPickerRef without name",
    pool({ endpointPickerRef: { port: { number: 9002 } } }),
    "endpointPickerRef.name",
    false,
  ],
  [
    "a Service endpointPickerRef without port",
    pool({ endpointPickerRef: { name: "epp" } }),
    "endpointPickerRef",
    false,
  ],
  ["a misspelled field", pool({ targetPort: 8000 }), "spec.targetPort", false],
  [
    "a label value over 63 characters",
    pool({ selector: { matchLabels: { app: "x".repeat(64) } } }),
    "matchLabels.app",
    false,
  ],
];

describe("the CRDs reject invalid resources", () => {
  for (const [what, doc, path, gatewayToo] of REJECTED) {
    test(what, () => {
      const { errors } = validate(JSON.parse(JSON.stringify(doc)) as Json);
      expect(errors.length, `no error for ${what}`).toBeGreaterThan(0);
      expect(
        errors.some((e) => e.includes(path)),
        errors.join("; "),
      ).toBe(true);
      if (gatewayToo)
        expect(gatewayAccepts(JSON.parse(JSON.stringify(doc)) as Json), "the gateway's schema").toBe(false);
    });
  }

  test("while the same documents, corrected, pass", () => {
    const ok: Json[] = [
      rewrite({ rules: target({ modelRewrite: "a", weight: 1 }) }),
      rewrite({ rules: target({ modelRewrite: "a", weight: 1_000_000 }) }),
      rewrite({ rules: [{ targets: [{ modelRewrite: "default-model" }] }] }, "llm-d.ai"),
      objective({ priority: -(2 ** 31), poolRef: { name: "p" } }),
      objective({ poolRef: { name: "p" } }),
      pool({
        targetPorts: ports(8000, 8001, 8002, 8003, 8004, 8005, 8006, 8007),
        appProtocol: "kubernetes.io/h2c",
      }),
      pool({ endpointPickerRef: { name: "epp", port: { number: 9002 }, failureMode: "FailOpen" } }),
      pool({ endpointPickerRef: { kind: "Deployment", group: "apps", name: "epp" } }),
      pool({
        selector: { matchLabels: Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, ""])) },
      }),
    ];
    for (const doc of ok) {
      expect(validate(doc).errors, JSON.stringify(doc["spec"])).toEqual([]);
      expect(gatewayAccepts(doc), JSON.stringify(doc["spec"])).toBe(true);
    }
  });
});
