import { describe, expect, test } from "bun:test";
import { matchRule } from "../../src/aigw/match.ts";
import { backendUrl } from "../../src/backends/hosted.ts";
import type { InferenceRequest } from "../../src/request.ts";
import { POOL, testConfig } from "../helpers/config.ts";
import { startStack } from "../helpers/stack.ts";
import { hostedDocs, makePki } from "./provider.ts";
import {
  AZURE_OPENAI,
  HEADER_BODY_MUTATIONS,
  INFERENCE_POOL_AIGWROUTE,
  MODEL_METADATA,
  OPENAI_MORE_MODELS,
  TESTUPSTREAM,
} from "./upstream-docs.ts";

const pool = (name: string) => `
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: { name: ${name} }
spec:
  selector: { matchLabels: { app: ${name.replace(/[^a-z0-9-]/g, "")} } }
  targetPorts: [{ number: 8000 }]
`;
const POOLS = [pool("vllm-llama3-8b-instruct"), pool("mistral")];

const error = (...docs: string[]) => {
  try {
    testConfig({}, ...docs);
  } catch (err) {
    return String(err);
  }
  throw new Error("loaded");
};

describe("Envoy AI Gateway's examples pasted as written", () => {
  test("examples/inference-pool/aigwroute.yaml (GatewayClass, Gateway, pools and a hosted model) loads", () => {
    const routes = testConfig({}, ...POOLS, INFERENCE_POOL_AIGWROUTE, TESTUPSTREAM).routes!;
    expect(
      routes.rules.map((r) => r.backends.map((b) => (b.target.kind === "pool" ? b.target.pool : b.name))),
    ).toEqual([["vllm-llama3-8b-instruct"], ["mistral"], ["envoy-ai-gateway-basic-testupstream"]]);
    expect(routes.backends.get("envoy-ai-gateway-basic-testupstream")!.origin).toBe(
      "http://envoy-ai-gateway-basic-testupstream.default.svc.cluster.local:80",
    );
    const match = (model: string, authorization?: string) =>
      matchRule(routes, { headers: new Headers(authorization ? { authorization } : {}), model })?.id;
    // Its first rule pairs the model with one of two Authorization values (OR across matches, AND within one).
    expect(match("meta-llama/Llama-3.1-8B-Instruct", "sk-zyxwvutsrqponmlkjihgfedcba")).toContain("rules[0]");
    expect(match("meta-llama/Llama-3.1-8B-Instruct", "sk-other")).toBeUndefined();
    expect(match("mistral:latest")).toContain("rules[1]");
  });

  test("the same example without the backend it borrows from basic.yaml is refused naming it", () => {
    expect(error(...POOLS, INFERENCE_POOL_AIGWROUTE)).toContain(
      "spec.rules[2].backendRefs[0].name: an AIServiceBackend named 'envoy-ai-gateway-basic-testupstream' in the file",
    );
  });

  test("a Gateway or GatewayClass alone is not a gateway document", () => {
    const gateway = INFERENCE_POOL_AIGWROUTE.slice(
      0,
      INFERENCE_POOL_AIGWROUTE.indexOf("---\napiVersion: aigateway"),
    );
    expect(error(pool("p"), gateway)).toContain('(got "GatewayClass")');
  });

  test("examples/basic/azure_openai.yaml is refused at its AzureCredentials policy, with the reason", () => {
    expect(error(pool("p"), AZURE_OPENAI)).toContain(
      "BackendSecurityPolicy/envoy-ai-gateway-basic-azure-credentials spec.type: APIKey or AzureAPIKey: AzureCredentials is not supported",
    );
  });

  test("the header and body mutation snippet is refused naming the backendRef", () => {
    expect(error(pool("p"), HEADER_BODY_MUTATIONS)).toContain(
      "AIGatewayRoute/my-route spec.rules[0].backendRefs[0]: no headerMutation or bodyMutation",
    );
  });

  test("schema.prefix is the OpenAI path prefix; version is one only without it (upstream's deprecated spelling)", () => {
    const url = (yaml: string) =>
      backendUrl(
        testConfig({}, pool("p"), yaml).routes!.backends.get("openai-backend")!,
        { kind: "chat", path: "/v1/chat/completions" } as InferenceRequest,
        "m",
      );
    expect(url(MODEL_METADATA)).toBe("https://api.openai.com:443/v1/chat/completions");
    const gemini = MODEL_METADATA.replace(
      '    version: "v1"',
      '    version: "v1"\n    prefix: /v1beta/openai',
    );
    expect(url(gemini)).toBe("https://api.openai.com:443/v1beta/openai/chat/completions");
  });

  test("a pool rule's backendRequest and streamIdleTimeout (hosted attempts only) and a backend's old spec.timeouts load with a warning", () => {
    const withTimeouts = INFERENCE_POOL_AIGWROUTE.replace(
      "          name: mistral\n",
      "          name: mistral\n      timeouts: { request: 60s, backendRequest: 10s }\n      streamIdleTimeout: 5s\n",
    );
    const config = testConfig({}, ...POOLS, withTimeouts, TESTUPSTREAM);
    expect(
      config.warnings.some((w) => w.includes("spec.rules[1]: timeouts.backendRequest and streamIdleTimeout")),
    ).toBe(true);
    expect(config.routes!.rules[1]!.requestTimeoutMs).toBe(60_000);
    const backendTimeouts = TESTUPSTREAM.replace("  schema:\n", "  timeouts: { request: 30s }\n  schema:\n");
    expect(
      testConfig({}, ...POOLS, INFERENCE_POOL_AIGWROUTE, backendTimeouts).warnings.some((w) =>
        w.includes("AIServiceBackend/envoy-ai-gateway-basic-testupstream spec.timeouts: ignored"),
      ),
    ).toBe(true);
  });

  test("a policy keyed for an InferencePool, or one with a credentialOverride, is refused naming the field", () => {
    const policy = (spec: string) => `
apiVersion: aigateway.envoyproxy.io/v1beta1
kind: BackendSecurityPolicy
metadata: { name: pods-key }
spec:
${spec}
  type: APIKey
  apiKey: { secretRef: { name: s } }`;
    const forPool = policy(
      "  targetRefs: [{ group: inference.networking.k8s.io, kind: InferencePool, name: vllm-llama3-8b-instruct }]",
    );
    expect(error(...POOLS, INFERENCE_POOL_AIGWROUTE, TESTUPSTREAM, forPool)).toContain(
      "BackendSecurityPolicy/pods-key spec.targetRefs: AIServiceBackends only",
    );
    const override = policy("  credentialOverride: { fromHeader: { name: x-user-key } }");
    expect(error(...POOLS, INFERENCE_POOL_AIGWROUTE, TESTUPSTREAM, override)).toContain(
      "BackendSecurityPolicy/pods-key spec.credentialOverride: no credentialOverride",
    );
  });

  test("the model metadata snippet sets owned_by and created for /v1/models", () => {
    const rule = testConfig({}, pool("p"), MODEL_METADATA).routes!.rules[0]!;
    expect(rule).toMatchObject({ models: ["gpt-4o-mini"], ownedBy: "OpenAI", created: 1704067200 });
  });

  test("openai-more-models.yaml loads; its rule without backendRefs answers a 503 that says so", async () => {
    const pki = makePki();
    const stack = await startStack({
      pods: [{ model: "llama" }],
      yaml: [
        POOL,
        OPENAI_MORE_MODELS,
        ...hostedDocs({ name: "envoy-ai-gateway-basic-openai", port: 1, ca: pki.ca, key: "k" }),
      ],
    });
    try {
      const res = await fetch(`${stack.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "o1", messages: [{ role: "user", content: "x" }] }),
      });
      expect(res.status).toBe(503);
      const err = ((await res.json()) as { error: { message: string; code: string } }).error;
      expect(err.code).toBe("no_backend");
      expect(err.message).toContain("has no backendRefs");
    } finally {
      await stack.close();
    }
  });
});
