import { describe, expect, test } from "bun:test";
import { matchRule } from "../../src/aigw/match.ts";
import { backendUrl } from "../../src/backends/hosted.ts";
import type { InferenceRequest } from "../../src/request.ts";
import { POOL, testConfig } from "../helpers/config.ts";
import { startStack } from "../helpers/stack.ts";
import { hostedDocs, makePki } from "./provider.ts";

/**
 * Envoy AI Gateway's own examples, pasted as its repository and documentation give them
 * (examples/inference-pool/aigwroute.yaml, examples/basic/azure_openai.yaml, and the
 * capabilities pages' route-model-metadata and header-body-mutations snippets with the
 * backend and policy snippets of the same pages): each loads, or is refused naming the field.
 */
const INFERENCE_POOL_AIGWROUTE = `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: inference-pool-with-aigwroute
spec:
  controllerName: gateway.envoyproxy.io/gatewayclass-controller
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: inference-pool-with-aigwroute
  namespace: default
spec:
  gatewayClassName: inference-pool-with-aigwroute
  listeners:
    - name: http
      protocol: HTTP
      port: 80
---
apiVersion: aigateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata:
  name: inference-pool-with-aigwroute
  namespace: default
spec:
  schema:
    name: OpenAI
  parentRefs:
    - name: inference-pool-with-aigwroute
      kind: Gateway
      group: gateway.networking.k8s.io
  rules:
    - matches:
        - headers:
            - type: Exact
              name: x-ai-eg-model
              value: meta-llama/Llama-3.1-8B-Instruct
            - type: Exact  # This demonstrates how to configure complex header matching rule such as API key auth for a particular model.
              name: Authorization
              value: sk-abcdefghijklmnopqrstuvwxyz
        - headers:
            - type: Exact
              name: x-ai-eg-model
              value: meta-llama/Llama-3.1-8B-Instruct
            - type: Exact
              name: Authorization
              value: sk-zyxwvutsrqponmlkjihgfedcba
      backendRefs:
        - group: inference.networking.k8s.io
          kind: InferencePool
          name: vllm-llama3-8b-instruct
    - matches:
        - headers:
            - type: Exact
              name: x-ai-eg-model
              value: mistral:latest
      backendRefs:
        - group: inference.networking.k8s.io
          kind: InferencePool
          name: mistral
    - matches:
        - headers:
            - type: Exact
              name: x-ai-eg-model
              value: some-cool-self-hosted-model
      backendRefs:
        - name: envoy-ai-gateway-basic-testupstream
`;

/** The testupstream backend examples/basic/basic.yaml defines, which the example above names. */
const TESTUPSTREAM = `
apiVersion: aigateway.envoyproxy.io/v1alpha1
kind: AIServiceBackend
metadata:
  name: envoy-ai-gateway-basic-testupstream
  namespace: default
spec:
  schema:
    name: OpenAI
  backendRef:
    name: envoy-ai-gateway-basic-testupstream
    kind: Backend
    group: gateway.envoyproxy.io
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata:
  name: envoy-ai-gateway-basic-testupstream
  namespace: default
spec:
  endpoints:
    - fqdn:
        hostname: envoy-ai-gateway-basic-testupstream.default.svc.cluster.local
        port: 80
`;

const AZURE_OPENAI = `
apiVersion: aigateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata:
  name: envoy-ai-gateway-basic-azure
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
              value: gpt-4.5-preview
      backendRefs:
        - name: envoy-ai-gateway-basic-azure
---
apiVersion: aigateway.envoyproxy.io/v1alpha1
kind: AIServiceBackend
metadata:
  name: envoy-ai-gateway-basic-azure
  namespace: default
spec:
  schema:
    name: AzureOpenAI
    version: 2025-01-01-preview
    ## OR using OpenAI compatible API
    # name: OpenAI
    # version: openai/v1
  backendRef:
    name: envoy-ai-gateway-basic-azure
    kind: Backend
    group: gateway.envoyproxy.io
---
# Option 1: Client Secret Authentication (Default)
apiVersion: aigateway.envoyproxy.io/v1alpha1
kind: BackendSecurityPolicy
metadata:
  name: envoy-ai-gateway-basic-azure-credentials
  namespace: default
spec:
  targetRefs:
    - group: aigateway.envoyproxy.io
      kind: AIServiceBackend
      name: envoy-ai-gateway-basic-azure
  type: AzureCredentials
  azureCredentials:
    clientID: AZURE_CLIENT_ID # Replace with your Azure Client ID.
    tenantID: AZURE_TENANT_ID # Replace with your Azure Tenant ID.
    clientSecretRef:
      name: envoy-ai-gateway-basic-azure-client-secret
      namespace: default
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata:
  name: envoy-ai-gateway-basic-azure
  namespace: default
spec:
  endpoints:
    - fqdn:
        hostname: dummy-azure-resource.openai.azure.com # Replace "dummy-azure-resource" with your Azure OpenAI resource e.g. <azure_resource_name>.openai.azure.com
        port: 443
---
apiVersion: gateway.networking.k8s.io/v1alpha3
kind: BackendTLSPolicy
metadata:
  name: envoy-ai-gateway-basic-azure-tls
  namespace: default
spec:
  targetRefs:
    - group: "gateway.envoyproxy.io"
      kind: Backend
      name: envoy-ai-gateway-basic-azure
  validation:
    wellKnownCACertificates: "System"
    hostname: dummy-azure-resource.openai.azure.com # Replace "dummy-azure-resource" with your Azure OpenAI resource e.g. <azure_resource_name>.openai.azure.com
---
apiVersion: v1
kind: Secret
metadata:
  name: envoy-ai-gateway-basic-azure-client-secret
  namespace: default
type: Opaque
stringData:
  client-secret: AZURE_CLIENT_SECRET # Replace with your Azure client secret for authentication.
`;

const HEADER_BODY_MUTATIONS = `
apiVersion: aigateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata:
  name: my-route
spec:
  parentRefs:
    - name: my-gateway
      kind: Gateway
      group: gateway.networking.k8s.io
  rules:
    - matches:
        - headers:
            - type: Exact
              name: x-ai-eg-model
              value: gpt-4
      backendRefs:
        - name: my-openai-backend
          headerMutation:
            set:
              - name: "x-route-specific"
                value: "premium"
          bodyMutation:
            set:
              - path: "max_tokens"
                value: "8192"
`;

const MODEL_METADATA = `
apiVersion: aigateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata:
  name: model-metadata
spec:
  parentRefs:
    - name: my-gateway
      kind: Gateway
      group: gateway.networking.k8s.io
  rules:
    - matches:
        - headers:
            - type: Exact
              name: x-ai-eg-model
              value: gpt-4o-mini
      modelsOwnedBy: "OpenAI"
      modelsCreatedAt: "2024-01-01T00:00:00Z"
      backendRefs:
        - name: openai-backend
---
apiVersion: aigateway.envoyproxy.io/v1alpha1
kind: AIServiceBackend
metadata:
  name: openai-backend
spec:
  # API schema the backend expects
  schema:
    name: OpenAI # Provider API format
    version: "v1" # API version (optional for OpenAI, defaults to "v1")

  # Reference to the Envoy Gateway Backend resource
  backendRef:
    name: openai-backend
    kind: Backend
    group: gateway.envoyproxy.io
---
apiVersion: aigateway.envoyproxy.io/v1alpha1
kind: BackendSecurityPolicy
metadata:
  name: openai-auth
spec:
  type: APIKey
  apiKey:
    secretRef:
      name: openai-secret
      namespace: default
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata:
  name: openai-backend
spec:
  endpoints:
    - fqdn:
        hostname: api.openai.com
        port: 443
`;

/** site/docs/getting-started/connect-providers/examples/openai-more-models.yaml: its o1 rule has no backendRefs. */
const OPENAI_MORE_MODELS = `
apiVersion: aigateway.envoyproxy.io/v1alpha1
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
              value: o1
    - matches:
        - headers:
            - type: Exact
              name: x-ai-eg-model
              value: text-embedding-ada-002
      backendRefs:
        - name: envoy-ai-gateway-basic-openai
`;

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
