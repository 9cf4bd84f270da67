/**
 * The default scheduling profile against its parts, in process (issue 19, fifteenth pass):
 * the real gateway (createGateway) with one EndpointPickerConfig per variant (bun-split.ts's
 * PROFILES), 4 pods answered by the fetch seam after `--delay` ms (0: at once), 32 requests at
 * a time; CPU µs a request per variant in alternating rounds, and how the pod calls spread
 * over the pods (share of calls on the busiest pod).
 *
 *   bun bench/overhead/decide-inproc.ts [--variants default,random,max,noprefix] [--rounds 9]
 *     [--n 20000] [--delay 0]
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  alternatingRounds,
  completionAnswer,
  type FetchApp,
  perRequest,
  postChat,
} from "../lib/in-process.ts";
import { SMALL } from "./bodies.ts";
import { PROFILE_YAML } from "./decide-profiles.ts";

const { values } = parseArgs({
  options: {
    variants: { type: "string", default: "none,random,max,noprefix" },
    rounds: { type: "string", default: "9" },
    n: { type: "string", default: "20000" },
    delay: { type: "string", default: "0" },
    root: { type: "string", default: resolve(import.meta.dir, "../..") },
    /** Heap cells a request by type instead (bursts of 32 × 12 after a full collection, medians). */
    cells: { type: "boolean", default: false },
  },
});
const root = values.root;
const delay = Number(values.delay);
const { createGateway } = await import(resolve(root, "src/gateway.ts"));
const { parseConfig } = await import(resolve(root, "src/config/load.ts"));
const { createLogger } = await import(resolve(root, "src/log.ts"));

const counts = new Map<string, Map<string, number>>();
function gateway(variant: string): FetchApp {
  const seen = new Map<string, number>();
  counts.set(variant, seen);
  const yaml = [
    "apiVersion: gateway.inference.dev/v1alpha1",
    "kind: GatewayConfig",
    "logLevel: info",
    "endpoints:",
    ...[0, 1, 2, 3].map((i) => `  - { name: pod-${i}, address: "127.0.0.1:${i + 1}", models: [m] }`),
    variant === "none" ? "" : PROFILE_YAML[variant]!,
  ].join("\n");
  return createGateway({
    config: parseConfig(yaml, "bench.yaml"),
    logger: createLogger("info", () => {}),
    fetch: async (input: unknown) => {
      const url = String(input);
      const host = url.slice(0, url.indexOf("/", 8));
      seen.set(host, (seen.get(host) ?? 0) + 1);
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      return completionAnswer();
    },
  }) as FetchApp;
}

const body = JSON.stringify(SMALL);
const n = Number(values.n);
const apps = Object.fromEntries(values.variants.split(",").map((v) => [v, gateway(v)]));
if (values.cells) {
  const { heapStats } = await import("bun:jsc");
  const byVariant: Record<string, Map<string, number[]>> = {};
  for (const app of Object.values(apps)) await perRequest(() => postChat(app, body), n, 32);
  for (let burst = 0; burst < Number(values.rounds); burst++)
    for (const [v, app] of Object.entries(apps)) {
      Bun.gc(true);
      const before = heapStats().objectTypeCounts as Record<string, number>;
      await perRequest(() => postChat(app, body), 384, 32);
      const after = heapStats().objectTypeCounts as Record<string, number>;
      byVariant[v] ??= new Map();
      const m = byVariant[v];
      let total = 0;
      for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
        const d = ((after[k] ?? 0) - (before[k] ?? 0)) / 384;
        total += d;
        m.set(k, [...(m.get(k) ?? []), d]);
      }
      m.set("(all)", [...(m.get("(all)") ?? []), total]);
    }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const names = values.variants.split(",");
  const types = [...new Set(names.flatMap((v) => [...byVariant[v]!.keys()]))]
    .map((k) => [k, names.map((v) => med(byVariant[v]!.get(k) ?? [0]))] as const)
    .filter(([, xs]) => xs.some((x) => Math.abs(x) >= 0.05))
    .sort((a, b) => b[1][0]! - a[1][0]!);
  console.log(`cells a request | ${names.join(" | ")}`);
  for (const [k, xs] of types) console.log(`${k} | ${xs.map((x) => x.toFixed(2)).join(" | ")}`);
  process.exit(0);
}
const results = await alternatingRounds(apps, Number(values.rounds), (app) =>
  perRequest(() => postChat(app, body), n, 32),
);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [v, xs] of Object.entries(results)) {
  const seen = [...counts.get(v)!.values()];
  const all = seen.reduce((a, b) => a + b, 0);
  console.log(
    `${v.padEnd(10)} ${median(xs).toFixed(2)} µs/req (rounds ${xs.map((x) => x.toFixed(1)).join(" ")}); busiest pod ${((100 * Math.max(...seen)) / all).toFixed(0)} % of ${all} calls over ${seen.length} pods`,
  );
}
process.exit(0);
