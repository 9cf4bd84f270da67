/** Gateways in front of a pod fleet, for the benchmarks, and a noise gauge for this process. */
import { seededRandom } from "../../src/clock.ts";
import { parseConfig } from "../../src/config/load.ts";
import { createGateway, type Gateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { serveBun } from "../../src/runtime/serve-bun.ts";
import { tcpSubscriber } from "../../src/runtime/zmq-socket.ts";

export interface GatewaySet {
  gateways: Gateway[];
  /** http://127.0.0.1:<port> of each gateway. */
  urls: string[];
  close(): Promise<void>;
}

/**
 * `replicas` independent gateways (own createGateway: own prefix index, in-flight counts,
 * scrapers, Random seeded `seed + k`), same config: every address in `addresses` serving
 * `model`, plus `pickerYaml` (an EndpointPickerConfig document) when given.
 */
export async function startGateways(opts: {
  addresses: readonly string[];
  model: string;
  pickerYaml?: string | undefined;
  replicas?: number;
  seed?: number;
  scrapeIntervalMs?: number;
}): Promise<GatewaySet> {
  const settings = {
    apiVersion: "gateway.inference.dev/v1alpha1",
    kind: "GatewayConfig",
    logLevel: "silent",
    dataLayer: { scrapeIntervalMs: opts.scrapeIntervalMs ?? 50 },
    endpoints: opts.addresses.map((address, i) => ({ name: `pod-${i}`, address, models: [opts.model] })),
  };
  const yaml = [JSON.stringify(settings), ...(opts.pickerYaml ? [opts.pickerYaml] : [])].join("\n---\n");
  const gateways: Gateway[] = [];
  const servers: { close(): Promise<void> }[] = [];
  const urls: string[] = [];
  for (let k = 0; k < (opts.replicas ?? 1); k++) {
    const gateway = createGateway({
      config: parseConfig(yaml, "bench.yaml"),
      logger: silentLogger(),
      random: seededRandom((opts.seed ?? 1) + 7919 * k),
      // As the Bun entry does: TCP sockets for vLLM KV events (precise prefix mode).
      kvSubscriber: tcpSubscriber,
    });
    gateway.start();
    const server = await serveBun({ fetch: gateway.fetch, port: 0, hostname: "127.0.0.1" });
    gateways.push(gateway);
    servers.push(server);
    urls.push(`http://127.0.0.1:${server.port}`);
  }
  // Let every gateway scrape every pod once before traffic starts.
  await Bun.sleep(Math.max(200, 4 * (opts.scrapeIntervalMs ?? 50)));
  return {
    gateways,
    urls,
    async close() {
      await Promise.all(gateways.map((g) => g.stop()));
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}

/**
 * Event-loop lag of this process: a 20 ms timer's overshoot, sampled while it runs.
 * A high p99 means the machine (2 shared cores) or this process was busy, and latencies
 * measured here include that delay.
 */
export function lagMonitor(intervalMs = 20): { stop(): { p50: number; p99: number; max: number } } {
  const lags: number[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    lags.push(Math.max(0, now - last - intervalMs));
    last = now;
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      lags.sort((a, b) => a - b);
      const at = (q: number) => lags[Math.min(lags.length - 1, Math.floor(q * lags.length))] ?? Number.NaN;
      return { p50: at(0.5), p99: at(0.99), max: lags[lags.length - 1] ?? Number.NaN };
    },
  };
}
