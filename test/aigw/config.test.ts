import { describe, expect, test } from "bun:test";
import { backendOrder, matchRule } from "../../src/aigw/match.ts";
import { seededRandom } from "../../src/clock.ts";
import { POOL, testConfig } from "../helpers/config.ts";

/** Envoy AI Gateway's examples/basic/openai.yaml, as its documentation gives it. */
const ENVOY_BASIC_OPENAI = `
apiVersion: aigateway.envoyproxy.io/v1beta1
kind: AIGatewayRoute
metadata:
  name: envoy-ai-gateway-basic-openai
  namespace: default
spec:
  parentRefs:
    - name: envoy-ai-gateway-basic
      kind: Gateway
      group: gateway.networking.k8s.io
  rules:
    - matches:
        - headers:
            - type: Exact
              name: x-ai-eg-model
              value: gpt-4o-mini
      backendRefs:
        - name: envoy-ai-gateway-basic-openai
---
apiVersion: aigateway.envoyproxy.io/v1beta1
kind: AIServiceBackend
metadata:
  name: envoy-ai-gateway-basic-openai
  namespace: default
spec:
  schema:
    name: OpenAI
  backendRef:
    name: envoy-ai-gateway-basic-openai
    kind: Backend
    group: gateway.envoyproxy.io
---
apiVersion: aigateway.envoyproxy.io/v1beta1
kind: BackendSecurityPolicy
metadata:
  name: envoy-ai-gateway-basic-openai-apikey
  namespace: default
spec:
  targetRefs:
    - group: aigateway.envoyproxy.io
      kind: AIServiceBackend
      name: envoy-ai-gateway-basic-openai
  type: APIKey
  apiKey:
    secretRef:
      name: envoy-ai-gateway-basic-openai-apikey
      namespace: default
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata:
  name: envoy-ai-gateway-basic-openai
  namespace: default
spec:
  endpoints:
    - fqdn:
        hostname: api.openai.com
        port: 443
---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata:
  name: envoy-ai-gateway-basic-openai-tls
  namespace: default
spec:
  targetRefs:
    - group: "gateway.envoyproxy.io"
      kind: Backend
      name: envoy-ai-gateway-basic-openai
  validation:
    wellKnownCACertificates: "System"
    hostname: api.openai.com
---
apiVersion: v1
kind: Secret
metadata:
  name: envoy-ai-gateway-basic-openai-apikey
  namespace: default
type: Opaque
stringData:
  apiKey: OPENAI_API_KEY # Replace with your OpenAI API key.
`;

const load = (...docs: string[]) => testConfig({}, POOL, ...docs);
const error = (...docs: string[]) => {
  try {
    load(...docs);
  } catch (err) {
    return String(err);
  }
  throw new Error("loaded");
};

describe("Envoy AI Gateway documents in the config file", () => {
  test("the basic OpenAI example loads as pasted: one rule, HTTPS with the system's CAs, the Secret's key as a Bearer token", () => {
    const routes = load(ENVOY_BASIC_OPENAI).routes!;
    expect(routes.rules).toHaveLength(1);
    const b = routes.backends.get("envoy-ai-gateway-basic-openai")!;
    expect(b).toMatchObject({ schema: "OpenAI", origin: "https://api.openai.com:443", ca: undefined });
    expect(b.credential).toMatchObject({
      header: "authorization",
      prefix: "Bearer ",
      source: { kind: "value", value: "OPENAI_API_KEY" },
    });
    expect(routes.rules[0]!.models).toEqual(["gpt-4o-mini"]);
    expect(routes.rules[0]!.ownedBy).toBe("Envoy AI Gateway");
  });

  test("without route documents routing stays model → pool", () => {
    expect(load().routes).toBeUndefined();
  });

  test("a Secret may take its key from an env variable or a file; a data entry is base64", () => {
    const env = ENVOY_BASIC_OPENAI.replace(
      "  namespace: default\ntype: Opaque",
      "  namespace: default\n  annotations: { gateway.inference.dev/api-key-env: OPENAI_KEY }\ntype: Opaque",
    );
    expect(load(env).routes!.backends.get("envoy-ai-gateway-basic-openai")!.credential!.source).toEqual({
      kind: "env",
      name: "OPENAI_KEY",
    });
    const data = ENVOY_BASIC_OPENAI.replace(
      "stringData:\n  apiKey: OPENAI_API_KEY",
      `data:\n  apiKey: ${btoa("sk-from-data")}`,
    );
    expect(load(data).routes!.backends.get("envoy-ai-gateway-basic-openai")!.credential!.source).toEqual({
      kind: "value",
      value: "sk-from-data",
    });
  });

  test("v1alpha1 spellings load: spec.schema and targetRefs on the route, backendSecurityPolicyRef on the backend", () => {
    const alpha = ENVOY_BASIC_OPENAI.replaceAll(
      "aigateway.envoyproxy.io/v1beta1",
      "aigateway.envoyproxy.io/v1alpha1",
    )
      .replace("spec:\n  parentRefs:", "spec:\n  schema: { name: OpenAI }\n  targetRefs:")
      .replace(
        "    group: gateway.envoyproxy.io\n---\napiVersion: aigateway.envoyproxy.io/v1alpha1\nkind: BackendSecurityPolicy",
        "    group: gateway.envoyproxy.io\n  backendSecurityPolicyRef: { name: envoy-ai-gateway-basic-openai-apikey }\n---\napiVersion: aigateway.envoyproxy.io/v1alpha1\nkind: BackendSecurityPolicy",
      );
    expect(load(alpha).routes!.backends.get("envoy-ai-gateway-basic-openai")!.credential).toBeDefined();
  });

  test.each([
    [
      "an unsupported schema, with the reason",
      ENVOY_BASIC_OPENAI.replace("name: OpenAI", "name: AWSBedrock"),
      "SigV4",
    ],
    [
      "Anthropic, with the reason",
      ENVOY_BASIC_OPENAI.replace("name: OpenAI", "name: Anthropic"),
      "docs/aigw.md",
    ],
    [
      "a typo in a backendRef",
      ENVOY_BASIC_OPENAI.replace(
        "- name: envoy-ai-gateway-basic-openai\n---",
        "- name: envoy-ai-gateway-basic-openai\n          wieght: 2\n---",
      ),
      "wieght",
    ],
    [
      "headerMutation",
      ENVOY_BASIC_OPENAI.replace(
        "- name: envoy-ai-gateway-basic-openai\n---",
        "- name: envoy-ai-gateway-basic-openai\n          headerMutation: { set: [] }\n---",
      ),
      "headerMutation",
    ],
    [
      "an AWS credential policy",
      ENVOY_BASIC_OPENAI.replace("type: APIKey", "type: AWSCredentials"),
      "AWSCredentials is not supported",
    ],
    [
      "a missing Secret",
      ENVOY_BASIC_OPENAI.replace(
        "kind: Secret\nmetadata:\n  name: envoy-ai-gateway-basic-openai-apikey",
        "kind: Secret\nmetadata:\n  name: other",
      ),
      "api-key-env",
    ],
    [
      "a bad regular expression",
      ENVOY_BASIC_OPENAI.replace("type: Exact", "type: RegularExpression").replace(
        "value: gpt-4o-mini",
        'value: "gpt-("',
      ),
      "RE2 syntax",
    ],
    [
      "a pool the gateway does not serve",
      ENVOY_BASIC_OPENAI.replace(
        "- name: envoy-ai-gateway-basic-openai\n---",
        "- { name: elsewhere, group: inference.networking.k8s.io, kind: InferencePool }\n---",
      ),
      "InferencePool this gateway serves",
    ],
    [
      "a hosted backend beside the pool at its priority",
      ENVOY_BASIC_OPENAI.replace(
        "- name: envoy-ai-gateway-basic-openai\n---",
        "- name: envoy-ai-gateway-basic-openai\n        - { name: pool, group: inference.networking.k8s.io, kind: InferencePool }\n---",
      ),
      "higher priority number",
    ],
    [
      "a Secret data entry that is not base64",
      ENVOY_BASIC_OPENAI.replace(
        "stringData:\n  apiKey: OPENAI_API_KEY",
        'data:\n  apiKey: "sk-not base64!"',
      ),
      "Secret/envoy-ai-gateway-basic-openai-apikey data.apiKey: base64",
    ],
    [
      "rateLimitsFromHeaders",
      ENVOY_BASIC_OPENAI.replace(
        "  rules:\n",
        "  rateLimitsFromHeaders: [{ metadataKey: k, header: h }]\n  rules:\n",
      ),
      "rate-limit",
    ],
  ])("%s is refused, naming what to change", (_name, yaml, words) => {
    expect(error(yaml)).toContain(words);
  });

  test("a pool first and a hosted backend behind it load as a spill rule", () => {
    const yaml = ENVOY_BASIC_OPENAI.replace(
      "- name: envoy-ai-gateway-basic-openai\n---",
      "- { name: pool, group: inference.networking.k8s.io, kind: InferencePool }\n        - { name: envoy-ai-gateway-basic-openai, priority: 1, modelNameOverride: gpt-4o-mini }\n---",
    );
    const rule = load(yaml).routes!.rules[0]!;
    expect(rule.backends.map((b) => [b.name, b.target.kind, b.priority])).toEqual([
      ["pool", "pool", 0],
      ["envoy-ai-gateway-basic-openai", "hosted", 1],
    ]);
    expect(rule.spillAfterMs).toBe(200);
  });
});

describe("rule matching and backend order", () => {
  const config = load(
    ENVOY_BASIC_OPENAI.replace(
      "  rules:\n",
      `  rules:
    - matches: [{ headers: [{ type: Exact, name: x-ai-eg-model, value: gpt-4o-mini }, { type: Exact, name: x-tier, value: gold }] }]
      backendRefs: [{ name: pool, group: inference.networking.k8s.io, kind: InferencePool }]
    - backendRefs:
        - { name: pool, group: inference.networking.k8s.io, kind: InferencePool, weight: 0 }
        - { name: envoy-ai-gateway-basic-openai, priority: 1 }
`,
    ),
  ).routes!;
  const match = (model: string, headers: Record<string, string> = {}) =>
    matchRule(config, { headers: new Headers(headers), model });

  test("the rule with the most header matches wins over an earlier one; a rule without matches takes the rest", () => {
    expect(match("gpt-4o-mini", { "x-tier": "gold" })!.id).toContain("rules[0]");
    expect(match("gpt-4o-mini")!.id).toContain("rules[2]");
    expect(match("anything")!.id).toContain("rules[1]");
  });

  test("x-ai-eg-model is the body's model, whatever header the client sent", () => {
    expect(match("other", { "x-ai-eg-model": "gpt-4o-mini", "x-tier": "gold" })!.id).toContain("rules[1]");
  });

  test("weight 0 takes no traffic; priorities are tried from 0 up", () => {
    const rule = match("anything")!;
    expect(backendOrder(rule, seededRandom(1)).map((b) => b.name)).toEqual(["envoy-ai-gateway-basic-openai"]);
  });
});

test("hostnames narrow a route to the Host header (exact, or a *. wildcard)", () => {
  const routes = load(
    ENVOY_BASIC_OPENAI.replace(
      "spec:\n  parentRefs:",
      'spec:\n  hostnames: ["api.example.com", "*.corp.example"]\n  parentRefs:',
    ),
  ).routes!;
  const at = (host: string) => matchRule(routes, { headers: new Headers({ host }), model: "gpt-4o-mini" });
  expect(at("api.example.com:8080")).toBeDefined();
  expect(at("team.corp.example")).toBeDefined();
  expect(at("corp.example")).toBeUndefined();
  expect(at("other.example.com")).toBeUndefined();
});
