/**
 * An InferenceModelRewrite of `pool` sending `alias` to `targets` in equal shares, for the
 * many-pool dashboard tests (their pools and pickers: `inferencePool` and `concurrencyPicker`
 * in test/helpers/config.ts).
 */
export const rewrite = (name: string, pool: string, alias: string, targets: string[]) => `
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: { name: ${name} }
spec:
  poolRef: { name: ${pool} }
  rules:
    - matches: [{ model: { type: Exact, value: ${alias} } }]
      targets: [${targets.map((t) => `{ modelRewrite: ${t}, weight: 1 }`).join(", ")}]`;
