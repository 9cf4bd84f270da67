/**
 * A gateway serving an upstream EndpointPickerConfig as written: our GatewayConfig and
 * InferencePool beside it, two simulated pods (shared by the upstream fixture tests).
 */
import { seededRandom } from "../../src/clock.ts";
import { parseConfig } from "../../src/config/load.ts";
import { createGateway, type Gateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { serveBun } from "../../src/runtime/serve-bun.ts";
import type { RunningServer } from "../../src/runtime/server.ts";
import { type RunningSimulator, startSimulators } from "../../src/simulator/index.ts";
import { POOL } from "../helpers/config.ts";

export const MODEL = "facebook/opt-125m";

/** Pod labels as the guides' pools carry them (a decode role, the pool's app label). */
const LABELS = { app: "vllm", role: "decode", "llm-d.ai/role": "decode" };

export interface Running {
  gateway: Gateway;
  server: RunningServer;
  pods: RunningSimulator[];
  close(): Promise<void>;
}

/** Two simulated pods and a gateway built from our GatewayConfig + InferencePool + the fixture. */
export async function start(fixture: string): Promise<Running & { url: string }> {
  const pods = await startSimulators(
    serveBun,
    [0, 1].map((i) => ({
      model: MODEL,
      timeScale: 0,
      jitter: 0,
      random: seededRandom(100 + i),
      port: 0,
      hostname: "127.0.0.1",
    })),
  );
  try {
    const settings = {
      apiVersion: "gateway.inference.dev/v1alpha1",
      kind: "GatewayConfig",
      logLevel: "silent",
      endpoints: pods.map((p, i) => ({
        name: `pod-${i}`,
        address: `127.0.0.1:${p.port}`,
        models: [MODEL],
        labels: LABELS,
      })),
    };
    const config = parseConfig([JSON.stringify(settings), POOL, fixture].join("\n---\n"), "upstream.yaml");
    const gateway = createGateway({ config, logger: silentLogger(), random: seededRandom(1) });
    gateway.start();
    const server = await serveBun({ fetch: gateway.fetch, port: 0, hostname: "127.0.0.1" });
    return {
      gateway,
      server,
      pods,
      url: `http://127.0.0.1:${server.port}`,
      async close() {
        await gateway.stop();
        await server.close();
        await Promise.all(pods.map((p) => p.close()));
      },
    };
  } catch (err) {
    await Promise.all(pods.map((p) => p.close()));
    throw err;
  }
}
