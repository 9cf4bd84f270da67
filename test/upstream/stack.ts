/**
 * A gateway serving an upstream EndpointPickerConfig as written: our GatewayConfig and
 * InferencePool beside it, two simulated pods (shared by the upstream fixture tests).
 * Built on the shared startStack, so pods, ports and shutdown work as everywhere else.
 */
import { POOL } from "../helpers/config.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

export const MODEL = "facebook/opt-125m";

/** Pod labels as the guides' pools carry them (a decode role, the pool's app label). */
const LABELS = { app: "vllm", role: "decode", "llm-d.ai/role": "decode" };

export type Running = Stack;

/** Two instant simulated pods and a gateway built from our GatewayConfig + InferencePool + the fixture. */
export function start(fixture: string): Promise<Running> {
  return startStack({
    pods: [0, 1].map(() => ({ model: MODEL, timeScale: 0 })),
    endpointLabels: LABELS,
    // The data layer's default scrape interval, as the fixture would run in a deployment.
    settings: { dataLayer: undefined },
    yaml: [POOL, fixture],
  });
}
