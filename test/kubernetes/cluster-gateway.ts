import { seededRandom } from "../../src/clock.ts";
import { parseConfig } from "../../src/config/load.ts";
import { createGateway, type Gateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { attachKubernetes } from "../../src/runtime/kubernetes.ts";
import { serveBun } from "../../src/runtime/serve-bun.ts";
import type { RunningServer } from "../../src/runtime/server.ts";
import { TEST_TUNING } from "./helpers.ts";

/** A gateway following a (fake) cluster and serving on loopback, as the cluster end-to-end tests run it. */
export interface ClusterGateway {
  gateway: Gateway;
  server: RunningServer;
  cluster: Awaited<ReturnType<typeof attachKubernetes>>;
  /** Stops discovery, then the gateway, then its server (the API server and pods are the test's). */
  stop(): Promise<void>;
}

/**
 * Builds the gateway from config `text` (whose kubeconfig names the fake API server), attaches
 * discovery with the tests' fast tuning, serves it on a loopback port and waits until discovery
 * has listed what it watches, so that the first test sees the cluster's objects.
 */
export async function serveClusterGateway(text: string, seed: number): Promise<ClusterGateway> {
  const gateway = createGateway({
    config: parseConfig(text, "k8s.yaml"),
    logger: silentLogger(),
    random: seededRandom(seed),
  });
  const cluster = await attachKubernetes({ gateway, logger: silentLogger(), tuning: TEST_TUNING });
  gateway.start();
  const server = await serveBun({ fetch: gateway.fetch, port: 0, hostname: "127.0.0.1" });
  await cluster.ready;
  return {
    gateway,
    server,
    cluster,
    async stop() {
      await cluster.stop();
      await gateway.stop();
      await server.close();
    },
  };
}
