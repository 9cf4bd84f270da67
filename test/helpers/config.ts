import { parseConfig } from "../../src/config/load.ts";

/** A GatewayConfig document plus optional extra YAML documents, parsed for tests. */
export function testConfig(settings: Record<string, unknown> = {}, ...docs: string[]) {
  const head = JSON.stringify({
    apiVersion: "gateway.inference.dev/v1alpha1",
    kind: "GatewayConfig",
    logLevel: "silent",
    ...settings,
  });
  return parseConfig([head, ...docs].join("\n---\n"), "test.yaml");
}

export const POOL = `
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: { name: pool }
spec:
  selector: { matchLabels: { app: vllm } }
  targetPorts: [{ number: 8000 }]
`;

/** An InferencePool `name` whose selector is `app: <name>`: endpoints labelled so join it (`poolOfEndpoint`). */
export const inferencePool = (name: string) => `
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: { name: ${name} }
spec: { selector: { matchLabels: { app: ${name} } }, targetPorts: [{ number: 8000 }] }`;
