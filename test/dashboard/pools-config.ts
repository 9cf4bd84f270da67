/**
 * Pool documents for the many-pool dashboard tests: an InferencePool per name whose selector
 * is `app: <name>` (endpoints labelled so join it, as `poolOfEndpoint` decides), and a
 * named EndpointPickerConfig per pool, with flow control or without, whose saturation is the
 * gateway's own count in flight (a concurrency detector full at `maxConcurrency` per endpoint).
 */
export const inferencePool = (name: string) => `
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: { name: ${name} }
spec: { selector: { matchLabels: { app: ${name} } }, targetPorts: [{ number: 8000 }] }`;

export const picker = (pool: string, opts: { flowControl: boolean; maxConcurrency: number }) => `
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
metadata: { name: ${pool} }
${opts.flowControl ? "featureGates: [flowControl]" : ""}
plugins:
  - type: concurrency-detector
    parameters: { maxConcurrency: ${opts.maxConcurrency} }`;

/** An InferenceModelRewrite of `pool` sending `alias` to `targets` in equal shares. */
export const rewrite = (name: string, pool: string, alias: string, targets: string[]) => `
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: { name: ${name} }
spec:
  poolRef: { name: ${pool} }
  rules:
    - matches: [{ model: { type: Exact, value: ${alias} } }]
      targets: [${targets.map((t) => `{ modelRewrite: ${t}, weight: 1 }`).join(", ")}]`;
