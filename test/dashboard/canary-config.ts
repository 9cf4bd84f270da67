/**
 * The pool and canary rewrite the dashboard browser tests serve (opt-stable split 80/20
 * between facebook/opt-125m and its canary), so the pictures they take show the same setup.
 */
export const POOL = `
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: { name: vllm-pool }
spec: { selector: { matchLabels: { app: vllm } }, targetPorts: [{ number: 8000 }] }`;
export const REWRITE = `
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: { name: opt-canary }
spec:
  poolRef: { name: vllm-pool }
  rules:
    - matches: [{ model: { type: Exact, value: opt-stable } }]
      targets:
        - { modelRewrite: facebook/opt-125m, weight: 80 }
        - { modelRewrite: facebook/opt-125m-canary, weight: 20 }`;
