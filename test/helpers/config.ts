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

/** An InferenceObjective of `pool` at `priority`: flow control's band (negative is sheddable). */
export const objective = (name: string, priority: number, pool = "pool") => `
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: { name: ${name} }
spec: { priority: ${priority}, poolRef: { name: ${pool} } }`;

/**
 * An EndpointPickerConfig whose pool is full at `maxConcurrency` requests in flight per endpoint
 * (the gateway's own counts, so exact). `flowControl: true` turns the feature gate on; a list
 * turns it on too and writes its lines (e.g. `defaultRequestTTL: 30s`) under `flowControl:`.
 * `name` ties the config to the pool of that name.
 */
export function concurrencyPicker(
  maxConcurrency: number,
  opts: { flowControl?: boolean | string[]; name?: string } = {},
): string {
  const { flowControl = false, name } = opts;
  return [
    "apiVersion: inference.networking.x-k8s.io/v1alpha1",
    "kind: EndpointPickerConfig",
    ...(name ? [`metadata: { name: ${name} }`] : []),
    ...(flowControl ? ["featureGates: [flowControl]"] : []),
    "plugins:",
    "  - type: concurrency-detector",
    `    parameters: { maxConcurrency: ${maxConcurrency} }`,
    ...(Array.isArray(flowControl) ? ["flowControl:", ...flowControl.map((line) => `  ${line}`)] : []),
  ].join("\n");
}

/** An EndpointPickerConfig that ranks by one `scorer` and takes the best; `name` ties it to that pool. */
export const scorerPicker = (name: string | undefined, scorer: string) =>
  [
    "apiVersion: inference.networking.x-k8s.io/v1alpha1",
    "kind: EndpointPickerConfig",
    ...(name ? [`metadata: { name: ${name} }`] : []),
    `plugins: [{ type: ${scorer} }, { type: max-score-picker }]`,
    `schedulingProfiles: [{ name: default, plugins: [{ pluginRef: ${scorer} }, { pluginRef: max-score-picker }] }]`,
  ].join("\n");
