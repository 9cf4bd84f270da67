/**
 * Runs under Node (node --import tsx): many-pool discovery against the fake API server whose
 * kubeconfig is argv[2], in namespaces llm and team-b by label; prints what it reported.
 */
import { startKubernetesDiscovery } from "../../src/kubernetes/index.ts";
import { silentLogger } from "../../src/log.ts";

const kubeconfig = process.argv[2]!;
const pools: string[][] = [];
const endpoints: Record<string, string[]> = {};
const discovery = await startKubernetesDiscovery({
  namespaces: ["llm", "team-b"],
  poolSelector: { tier: "prod" },
  kubeconfig,
  logger: silentLogger(),
  tuning: { backoffMinMs: 20, backoffMaxMs: 250 },
  onPools: (ps) => pools.push(ps.map((p) => p.key)),
  onEndpoints: (key, eps) => {
    endpoints[key] = eps.map((e) => e.name);
  },
  onObjectives: () => {},
  onRewrites: () => {},
});
await discovery.ready;
await discovery.stop();
console.log(JSON.stringify({ runtime: `node ${process.versions.node}`, pools: pools.at(-1), endpoints }));
