/**
 * Several InferencePools behind one in-process gateway, each on its own slot pods
 * (bench/lib/slot-pod.ts), for the many-pools benchmark. The config is what a platform
 * team writes: one InferencePool document per pool selecting its pods by label, the
 * pods as static endpoints carrying that label and their model, one InferenceObjective
 * pair (critical, batch) per pool, and optionally one EndpointPickerConfig without a name
 * (it serves every pool). A gateway built with one pool only is "that pool alone".
 */
import { parseConfig } from "../../src/config/load.ts";
import { createGateway, type Gateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { serveBun } from "../../src/runtime/serve-bun.ts";
import { type SlotPod, startSlotPod } from "./slot-pod.ts";

export interface PoolSpec {
  name: string;
  model: string;
  pods: number;
  slots: number;
  serviceMs: number;
}

/** Requests per second the pool serves at most: pods × slots / service time. */
export const capacity = (p: PoolSpec) => (p.pods * p.slots * 1000) / p.serviceMs;

/** The pool's documents: the InferencePool and its two objectives (critical 10, batch −1). */
export function poolDocs(p: PoolSpec): string[] {
  return [
    `apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: { name: ${p.name} }
spec: { selector: { matchLabels: { app: ${p.name} } }, targetPorts: [{ number: 8000 }] }`,
    ...[
      ["critical", 10],
      ["batch", -1],
    ].map(
      ([objective, priority]) => `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: { name: ${objective} }
spec: { priority: ${priority}, poolRef: { name: ${p.name} } }`,
    ),
  ];
}

export interface FleetRun {
  /** The URL of the gateway serving each pool, by pool name. */
  urls: Map<string, string>;
  gateways: Gateway[];
  /** The pods of each pool, by pool name. */
  pods: Map<string, SlotPod[]>;
}

/**
 * Starts the pools of `groups` (fresh pods: empty queues) and one gateway per group,
 * serving exactly that group's pools, with `picker` (an EndpointPickerConfig document)
 * when given; runs `run`; stops it all. `[[a, b]]` = one gateway for both pools;
 * `[[a], [b]]` = each pool alone on its own gateway (same pods, same process).
 * Pod seeds depend on the pool and pod index only, so a pool's pods behave alike whether
 * it runs alone or beside another.
 */
export async function withPools<T>(
  groups: readonly (readonly PoolSpec[])[],
  picker: string | undefined,
  run: (r: FleetRun) => Promise<T>,
): Promise<T> {
  const pods = new Map<string, SlotPod[]>();
  for (const p of groups.flat())
    pods.set(
      p.name,
      await Promise.all(
        Array.from({ length: p.pods }, (_, i) =>
          startSlotPod({
            model: p.model,
            slots: p.slots,
            serviceMs: p.serviceMs,
            seed: 1 + i + 100 * seedOf(p.name),
          }),
        ),
      ),
    );
  const gateways: Gateway[] = [];
  const servers: { close(): Promise<void> }[] = [];
  const urls = new Map<string, string>();
  for (const pools of groups) {
    const settings = {
      apiVersion: "gateway.inference.dev/v1alpha1",
      kind: "GatewayConfig",
      logLevel: "silent",
      endpoints: pools.flatMap((p) =>
        pods.get(p.name)!.map((pod, i) => ({
          name: `${p.name}-${i}`,
          address: pod.address,
          models: [p.model],
          labels: { app: p.name },
        })),
      ),
    };
    const yaml = [JSON.stringify(settings), ...pools.flatMap(poolDocs), ...(picker ? [picker] : [])];
    const gateway = createGateway({
      config: parseConfig(yaml.join("\n---\n"), "many-pools-bench.yaml"),
      logger: silentLogger(),
    });
    gateway.start();
    const server = await serveBun({ fetch: gateway.fetch, port: 0, hostname: "127.0.0.1" });
    gateways.push(gateway);
    servers.push(server);
    for (const p of pools) urls.set(p.name, `http://127.0.0.1:${server.port}`);
  }
  await Bun.sleep(300); // every pod scraped before traffic
  try {
    return await run({ urls, gateways, pods });
  } finally {
    await Promise.all(gateways.map((g) => g.stop()));
    await Promise.all(servers.map((s) => s.close()));
    await Promise.all([...pods.values()].flat().map((p) => p.close()));
  }
}

/** A pool's seed from its name, not its place in the config (alone or together: same pods). */
function seedOf(name: string): number {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) % 1000;
  return h;
}
