import { seededRandom } from "../../src/clock.ts";
import { serveBun } from "../../src/runtime/serve-bun.ts";
import { type RunningSimulator, startSimulators } from "../../src/simulator/index.ts";
import { concurrencyPicker, inferencePool } from "../helpers/config.ts";
import { type Stack, serveOver } from "../helpers/stack.ts";

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
  return serveOver(pods, {
    file: "pools.yaml",
    settings: {
      dataLayer: { scrapeIntervalMs: 50 },
      endpoints: layout.map(({ pool, i }, n) => ({
        name: `${pool.name}-${i}`,
        address: `127.0.0.1:${pods[n]!.port}`,
        models: [pool.model],
        labels: { app: pool.name },
      })),
    },
    yaml: [
      ...specs.flatMap((s) => [
        inferencePool(s.name),
        concurrencyPicker(4, { name: s.name, flowControl: s.flowControl ?? false }),
      ]),
      ...yaml,
    ],
    seed: 1,
  });
}
