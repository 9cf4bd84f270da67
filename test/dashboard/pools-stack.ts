import { seededRandom } from "../../src/clock.ts";
import { parseConfig } from "../../src/config/load.ts";
import { createGateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { serveBun } from "../../src/runtime/serve-bun.ts";
import { type RunningSimulator, startSimulators } from "../../src/simulator/index.ts";
import type { Stack } from "../helpers/stack.ts";
import { inferencePool, picker } from "./pools-config.ts";

/** One pool of the stack: its name, the model its pods serve, how many pods, and flow control. */
export interface PoolSpec {
  name: string;
  model: string;
  pods: number;
  flowControl?: boolean;
}

/**
 * Simulated pods and a gateway on real loopback ports, with an InferencePool per spec: each
 * pod is a static endpoint `<pool>-<i>` labelled `app: <pool>`, which puts it in that pool
 * by the pool's selector (`poolOfEndpoint`), as a pod in the cluster would be.
 */
export async function startPools(specs: PoolSpec[], yaml: string[] = []): Promise<Stack> {
  const layout = specs.flatMap((s) => Array.from({ length: s.pods }, (_, i) => ({ pool: s, i })));
  const pods: RunningSimulator[] = await startSimulators(
    serveBun,
    layout.map(({ pool }, n) => ({
      model: pool.model,
      timeScale: 0.05,
      jitter: 0.3,
      random: seededRandom(200 + n),
      port: 0,
      hostname: "127.0.0.1",
    })),
  );
  try {
    const settings = {
      apiVersion: "gateway.inference.dev/v1alpha1",
      kind: "GatewayConfig",
      logLevel: "silent",
      dataLayer: { scrapeIntervalMs: 50 },
      endpoints: layout.map(({ pool, i }, n) => ({
        name: `${pool.name}-${i}`,
        address: `127.0.0.1:${pods[n]!.port}`,
        models: [pool.model],
        labels: { app: pool.name },
      })),
    };
    const docs = specs.flatMap((s) => [
      inferencePool(s.name),
      picker(s.name, { flowControl: s.flowControl ?? false, maxConcurrency: 4 }),
    ]);
    const config = parseConfig([JSON.stringify(settings), ...docs, ...yaml].join("\n---\n"), "pools.yaml");
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
