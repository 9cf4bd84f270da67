/**
 * Pool documents for the many-pool dashboard tests, beside each pool's InferencePool
 * (`inferencePool` in test/helpers/config.ts): a named EndpointPickerConfig per pool, with
 * flow control or without, whose saturation is the gateway's own count in flight (a concurrency detector full at `maxConcurrency` per endpoint).
 */
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
