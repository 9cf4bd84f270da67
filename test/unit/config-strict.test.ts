import { describe, expect, test } from "bun:test";
import { builtinRegistry } from "../../plugins/index.ts";
import { ConfigError } from "../../src/config/errors.ts";
import { parseConfig } from "../../src/config/load.ts";
import { closest, distance } from "../../src/config/strict.ts";
import { checkPickerConfig } from "../../src/gateway.ts";

const GW = "apiVersion: gateway.inference.dev/v1alpha1\nkind: GatewayConfig\n";
const REWRITE = (target: string) => `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: { name: opt-canary }
spec:
  poolRef: { name: pool }
  rules:
    - matches: [{ model: { value: opt-stable } }]
      targets:
        - { modelRewrite: stable, ${target}: 90 }
        - { modelRewrite: canary, ${target}: 10 }
`;
const POOL = `apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: { name: pool }
spec:
  selector: { matchLabels: { app: vllm } }
  targetPorts: [{ number: 8000 }]
`;

function error(text: string): ConfigError {
  try {
    // Plugin types and parameters are checked against the composition root's plugins, as the gateway does.
    parseConfig(text, "gw.yaml", { checkPicker: (picker) => checkPickerConfig(picker, builtinRegistry()) });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("the config loaded");
}

describe("unknown fields are errors, with a near miss named", () => {
  test("`wieght` on a rewrite target", () => {
    const err = error(`${GW}---\n${REWRITE("wieght")}`);
    expect(err.message).toBe(
      'gw.yaml: InferenceModelRewrite/opt-canary spec.rules[0].targets[0].wieght: unknown field "wieght" ' +
        '(did you mean "weight"?); the fields here are modelRewrite, weight',
    );
    expect(parseConfig(`${GW}---\n${REWRITE("weight")}`).rewrites).toHaveLength(1);
  });

  test.each([
    [`${GW}maxBodyByte: 2048\n`, "GatewayConfig (document 1) maxBodyByte", "maxBodyBytes"],
    [`${GW}upstream: { maxAtempts: 2 }\n`, "GatewayConfig (document 1) upstream.maxAtempts", "maxAttempts"],
    [`${GW}endpoints: [{ name: a, adress: "h:1" }]\n`, "endpoints[0].adress", "address"],
    [POOL.replace("selector:", "selecter:"), "InferencePool/pool spec.selecter", "selector"],
    [
      POOL.replace("targetPorts: [{ number: 8000 }]", "targetPorts: [{ numbr: 8000 }]"),
      "spec.targetPorts[0].numbr",
      "number",
    ],
    [
      "apiVersion: inference.networking.x-k8s.io/v1alpha2\nkind: InferenceObjective\nmetadata: { name: o }\nspec: { priorty: 1, poolRef: { name: pool } }\n",
      "InferenceObjective/o spec.priorty",
      "priority",
    ],
    [`${GW}metadata: { name: g, lables: {} }\n`, "metadata.lables", "labels"],
  ])("%#: %s", (text, path, guess) => {
    const err = error(text);
    expect(err.path).toContain(path);
    expect(err.expected).toContain(`did you mean "${guess}"?`);
  });

  test("a field far from every known one gets no guess, only the list", () => {
    const err = error(`${GW}frobnicate: true\n`);
    expect(err.expected).not.toContain("did you mean");
    expect(err.expected).toContain("the fields here are apiVersion, auth,");
  });

  test("documents copied from a cluster keep loading: standard metadata and status", () => {
    const meta = `  uid: 0b8a
  resourceVersion: "123"
  generation: 2
  creationTimestamp: "2025-01-01T00:00:00Z"
  labels: { team: a }
  annotations: { kubectl.kubernetes.io/last-applied-configuration: "{}" }
  managedFields: [{ manager: kubectl, operation: Apply }]
  ownerReferences: []
  finalizers: []
status:
  conditions: [{ type: Accepted, status: "True" }]
`;
    const text = [
      GW,
      POOL.replace("metadata: { name: pool }", `metadata:\n  name: pool\n${meta.split("status:")[0]}`) +
        `status:\n  parents: []\n`,
      REWRITE("weight")
        .replace("metadata: { name: opt-canary }", `metadata:\n  name: opt-canary\n${meta}`)
        .replace(/status:\n.*\n(spec:)/, "$1"),
      "apiVersion: inference.networking.x-k8s.io/v1alpha2\nkind: InferenceObjective\n" +
        `metadata:\n  name: o\n${meta}spec: { priority: 1, poolRef: { name: pool } }\n`,
    ].join("---\n");
    const config = parseConfig(text, "gw.yaml");
    expect(config.rewrites).toHaveLength(1);
    expect(config.objectives).toHaveLength(1);
  });

  test("an InferencePool that only names the pool needs no selector or target ports", () => {
    const config = parseConfig(
      `${GW}---\napiVersion: inference.networking.k8s.io/v1\nkind: InferencePool\nmetadata: { name: p }\n`,
      "gw.yaml",
    );
    expect(config.pool?.metadata.name).toBe("p");
  });
});

describe("config errors are in the gateway's words", () => {
  const BAD = [
    `${GW}port: eighty\n`,
    `${GW}port: 70000\n`,
    `${GW}logLevel: loud\n`,
    `${GW}maxBodyBytes: 1.5\n`,
    `${GW}endpoints: [{ address: "h:1" }]\n`,
    `${GW}endpoints: [{ name: a, address: nowhere }]\n`,
    `${GW}auth: { apiKeys: [{ name: k, sha256: abc }] }\n`,
    `${GW}upstream: true\n`,
    `${GW}nope: 1\n`,
    `${GW}upstream: { nope: 1 }\n`,
    "apiVersion: gateway.inference.dev/v2\nkind: GatewayConfig\n",
    POOL.replace("number: 8000", "number: 0"),
    POOL.replace("{ app: vllm }", "{}"),
    "apiVersion: inference.networking.x-k8s.io/v1alpha2\nkind: InferenceObjective\nmetadata: { name: o }\nspec: { priority: high, poolRef: { name: pool } }\n",
    REWRITE("weight").replace("90", "0"),
    REWRITE("weight").replace("modelRewrite: stable, ", ""),
    REWRITE("wieght"),
    "apiVersion: inference.networking.x-k8s.io/v1alpha1\nkind: EndpointPickerConfig\nsaturationDetector: { queueDepthThreshold: -1 }\n",
    "apiVersion: llm-d.ai/v9\nkind: EndpointPickerConfig\n",
    "apiVersion: inference.networking.x-k8s.io/v1alpha1\nkind: EndpointPickerConfig\nplugins: [{ type: max-score-picker, parameters: { maxNumOfEndpoints: x } }]\n",
    "apiVersion: inference.networking.x-k8s.io/v1alpha1\nkind: EndpointPickerConfig\nplugins: [{ type: max-score-picker, parameters: { maxNumOfEndpoint: 2 } }]\n",
    "apiVersion: inference.networking.x-k8s.io/v1alpha1\nkind: EndpointPickerConfig\nfeatureGates: [flowControl]\nflowControl: { maxBytes: x }\n",
    `${GW}dataLayer: { engines: { x: { waiting: 3, running: a } } }\n`,
    "kind: Nope\n",
  ];
  test.each(BAD.map((b, i) => [i, b]))("bad config %i", (_i, text) => {
    const err = error(text as string);
    expect(err.message).toStartWith("gw.yaml: ");
    expect(err.message).not.toMatch(/Expected never|but received|Invalid (type|key|value|length)|received/);
  });
});

test("a plugin parameter typo gets a near miss too", () => {
  const err = error(
    "apiVersion: inference.networking.x-k8s.io/v1alpha1\nkind: EndpointPickerConfig\nplugins: [{ type: max-score-picker, parameters: { maxNumOfEndpoint: 2 } }]\n",
  );
  expect(err.message).toContain('maxNumOfEndpoint: a known parameter (did you mean "maxNumOfEndpoints"?)');
});

test("a misspelt kind gets a near miss", () => {
  const err = error(
    "apiVersion: inference.networking.k8s.io/v1\nkind: InferencePol\nmetadata: { name: p }\n",
  );
  expect(err.message).toBe(
    "gw.yaml: document 1 kind: one of GatewayConfig, InferencePool, InferenceObjective, InferenceModelRewrite, " +
      "EndpointPickerConfig, or Envoy AI Gateway's routing documents (AIGatewayRoute, AIServiceBackend, " +
      "BackendSecurityPolicy, Backend, BackendTLSPolicy, Secret, ConfigMap, GatewayClass, Gateway; Secrets, " +
      'ConfigMaps and Gateways only beside an AIGatewayRoute) (did you mean "InferencePool"?) (got "InferencePol")',
  );
});

test("the edit-distance helper", () => {
  expect(distance("wieght", "weight")).toBe(1);
  expect(distance("kitten", "sitting")).toBe(3);
  expect(closest("wieght", ["modelRewrite", "weight"])).toBe("weight");
  expect(closest("xyz", ["modelRewrite", "weight"])).toBeUndefined();
});
