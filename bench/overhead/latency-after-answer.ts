/**
 * What a small JSON request waits for in process, its records written before the answer
 * (the gateway as tests build it) or after it (`afterAnswer.defer(setImmediate)`, as the Bun
 * entry runs it): wall µs from `fetch` to the Response in hand, one request at a time, each
 * followed by a turn (the drain runs there, outside the timed part, as at one connection
 * the client is reading its answer meanwhile), hot and with the caches swept between
 * requests (the one-connection case: an idle core, cold caches); and the process CPU per
 * request over a batch, drains included (it must not rise). Alternating rounds.
 *
 *   bun bench/overhead/latency-after-answer.ts [--rounds 9] [--n 4000]
 */
import { resolve } from "node:path";
import { alternatingRounds, chatRequest, type FetchApp, gatewayAt } from "../lib/in-process.ts";

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const ROUNDS = opt("rounds", 9);
const N = opt("n", 4000);
const ROOT = resolve(import.meta.dir, "../..");
const BODY = JSON.stringify({ model: "m", messages: [{ role: "user", content: "Say hi" }] });

type Gw = FetchApp & {
  deps: { afterAnswer: { defer(later: ((run: () => void) => void) | undefined): void } };
};
const sync = (await gatewayAt(ROOT)) as Gw;
const deferred = (await gatewayAt(ROOT)) as Gw;
deferred.deps.afterAnswer.defer(setImmediate);

const turn = () => new Promise<void>((r) => setImmediate(r));
const sweep = new Uint8Array(8 << 20);
let sink = 0;
/** Touches 8 MiB (a line in every 64 bytes): what sits in the caches now is not the gateway's. */
function evict(): void {
  for (let i = 0; i < sweep.length; i += 64) sink += sweep[i]!++;
}

/** Median wall µs from fetch to the Response in hand, over `n` requests one at a time. */
async function waited(app: FetchApp, n: number, cold: boolean): Promise<number> {
  const times = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (cold) evict();
    const t0 = performance.now();
    const res = await app.fetch(chatRequest(BODY));
    times[i] = (performance.now() - t0) * 1000;
    if (res.status !== 200) throw new Error(`status ${res.status}`);
    await res.arrayBuffer();
    await turn();
  }
  times.sort();
  return times[n >> 1]!;
}

/** Process CPU µs a request over `n` requests one at a time, the turns and drains included. */
async function cpu(app: FetchApp, n: number): Promise<number> {
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const res = await app.fetch(chatRequest(BODY));
    await res.arrayBuffer();
    await turn();
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}

const apps = { sync, deferred };
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const show = (label: string, r: Record<string, number[]>) => {
  const s = r["sync"]!;
  const d = r["deferred"]!;
  const lower = d.filter((v, i) => v < s[i]!).length;
  console.log(
    `${label}: sync ${s.map((v) => v.toFixed(1)).join(" ")} | deferred ${d.map((v) => v.toFixed(1)).join(" ")}` +
      ` | medians ${med(s).toFixed(2)} → ${med(d).toFixed(2)} (${(med(d) / med(s)).toFixed(3)}×, lower in ${lower} of ${s.length})`,
  );
};
console.log(
  `${process.versions.bun ? `bun ${process.versions.bun}` : `node ${process.version}`}, ${N} requests a batch, ${ROUNDS} rounds`,
);
show("hot: µs to the Response", await alternatingRounds(apps, ROUNDS, (a) => waited(a, N, false)));
show("cold: µs to the Response", await alternatingRounds(apps, ROUNDS, (a) => waited(a, N >> 2, true)));
show("CPU µs a request", await alternatingRounds(apps, ROUNDS, (a) => cpu(a, N)));
if (sink === -1) console.log(sink);
