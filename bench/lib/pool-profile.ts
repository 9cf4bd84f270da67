/**
 * Where the request path's cost grows (many-pools benchmark): profiles the in-process
 * request path (bench/lib/pool-micro.ts) of one variant, to be run under the profiler:
 *
 *   bun --cpu-prof --cpu-prof-dir=/tmp/pool-prof bench/lib/pool-profile.ts p1e64 [requests]
 *
 * then prints the top self-time functions and our frames of the newest profile in that
 * directory (bench/overhead/profile.ts reads it). Compare p1e4 with p1e64 (endpoints per
 * pool) or with p100e4 (pools).
 */
import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { analyzeProfile } from "../overhead/profile.ts";
import { microBatch, microGateway } from "./pool-micro.ts";

const [id = "p1e64", requests = "40000", analyse] = process.argv.slice(2);
if (analyse) {
  // Second step: `bun bench/lib/pool-profile.ts <id> <n> <dir>` analyses the newest profile in <dir>.
  const newest = readdirSync(analyse)
    .filter((f) => f.endsWith(".cpuprofile"))
    .map((f) => join(analyse, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (!newest) throw new Error(`${analyse}: no .cpuprofile`);
  const s = analyzeProfile(newest, {
    root: resolve(import.meta.dir, "../.."),
    top: Number(process.env["TOP"] ?? 20),
    window: /./,
  });
  console.log(`${newest}: ${s.samples} samples`);
  for (const r of s.selfTop) console.log(`self ${r.pct.toFixed(1).padStart(5)} %  ${r.what}  [${r.ours}]`);
  for (const r of s.bySite) console.log(`ours ${r.pct.toFixed(1).padStart(5)} %  ${r.what}`);
  process.exit(0);
}
const m = /^p(\d+)e(\d+)$/.exec(id);
if (!m) throw new Error(`'${id}' is not p<pools>e<endpoints per pool>`);
const v = { id, pools: Number(m[1]), endpointsPerPool: Number(m[2]), quiet: true };
const last = `model-${Math.max(v.pools, 10) - 1}`;
const gateway = await microGateway(v, last);
const n = Number(requests);
const us = await microBatch(gateway, ["model-0", last], n);
console.log(`${id}: ${us.toFixed(1)} µs/req over ${n} requests (profiler on)`);
await gateway.stop();
process.exit(0);
