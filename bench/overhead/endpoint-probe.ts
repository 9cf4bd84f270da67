/**
 * What a request costs the gateway at 64 endpoints against 4, end to end, with nothing
 * else changing: two gateways (one pool of 4 endpoints, one of 64, scraping off) in front
 * of one mock upstream with a port per endpoint, measured in turn (the other SIGSTOPped)
 * by wrk at 1 and 32 connections, rounds interleaved. CPU µs per request from /proc.
 * `--prof` adds `--cpu-prof` to both gateways (profiles in the work dir, read with
 * bench/overhead/profile.ts); `--scrape` keeps the default 50 ms scraping; `--baseline <dir>`
 * runs another checkout's gateways beside these (ids suffixed "-base"). CPU by thread
 * (/proc/<pid>/task), "net" less the gateway's idle rate measured just before.
 * `--prompt new` sends a prompt of more than one 64-character block that no request has
 * sent before (a number wrk counts): no endpoint holds it, so the picker weighs its whole
 * band by rendezvous; the default (`short`) sends a prompt under one block, which has no
 * rendezvous key. `--flow` turns flow control on with the README's example (ids "…f…").
 *
 *   BENCH_PIN=1 bun bench/overhead/endpoint-probe.ts [--rounds 6] [--seconds 3] [--prof] [--scrape] [--prompt short|new] [--flow] [--baseline dir]
 */
import { parseArgs } from "node:util";
import { measureGateway, modelOf, OverheadRig, type Variant } from "../lib/pool-overhead.ts";
import { killAllOnExit, type Proc, signal, sleep, stopAll } from "./procs.ts";
import { threadCpu } from "./split-lib.ts";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "6" },
    seconds: { type: "string", default: "3" },
    prof: { type: "boolean", default: false },
    scrape: { type: "boolean", default: false },
    endpoints: { type: "string", default: "4,64" },
    baseline: { type: "string" },
    prompt: { type: "string", default: "short" },
    flow: { type: "boolean", default: false },
  },
});
if (values.prompt !== "short" && values.prompt !== "new") throw new Error("--prompt is short or new");
killAllOnExit();
const last = modelOf(9);
const rig = new OverheadRig(last);
const counts = values.endpoints.split(",").map(Number);
await rig.startUpstream(Math.max(...counts));
const variants: Variant[] = counts.map((n) => ({
  id: `p1e${n}${values.flow ? "f" : ""}${values.scrape ? "" : "q"}`,
  pools: 1,
  endpointsPerPool: n,
  quiet: !values.scrape,
  flow: values.flow,
}));
const gws: { v: Variant; proc: Proc; url: string }[] = [];
const roots: [string, string | undefined][] = [["", undefined]];
if (values.baseline) roots.push(["-base", values.baseline]);
for (const [suffix, root] of roots)
  for (const variant of variants) {
    const v = { ...variant, id: variant.id + suffix };
    const extra = values.prof ? ["--cpu-prof", `--cpu-prof-dir=${rig.work}/prof-${v.id}`] : [];
    const g = await rig.launch(v, extra, root);
    gws.push({ v, proc: g.proc, url: `http://127.0.0.1:${g.port}` });
  }
const messages = [
  {
    role: "user",
    content:
      values.prompt === "new"
        ? "Ticket @@N@@: the customer asks why the invoice for order @@N@@ shows two charges. Draft a short, polite reply."
        : "Say hello in one short sentence.",
  },
];
const script = rig.script(
  "mix",
  [modelOf(0), last].map((model) => ({ model, messages, max_tokens: 16 })),
  values.prompt === "new",
);
// warm-up
for (const g of gws) {
  await measureGateway(
    rig,
    { proc: g.proc, url: g.url },
    gws.filter((o) => o !== g).map((o) => o.proc),
    { script, conns: 8, seconds: 3, idleS: 0 },
  );
}
const rows: Record<string, Record<string, number[]>> = {};
for (let r = 0; r < Number(values.rounds); r++) {
  for (const conns of [1, 32]) {
    const order = r % 2 === 0 ? gws : [...gws].reverse();
    for (const g of order) {
      for (const o of gws) if (o !== g) signal(o.proc, "SIGSTOP");
      signal(g.proc, "SIGCONT");
      await sleep(300);
      const sum = (m: Map<string, number>) =>
        [...m].reduce(
          (a, [k, v]) => (k === "page faults" || k === "js wakeups" || k === "js (kernel)" ? a : a + v),
          0,
        );
      const i0 = threadCpu(g.proc.pid);
      const it0 = performance.now();
      await sleep(1000);
      const idleUsPerMs = (sum(threadCpu(g.proc.pid)) - sum(i0)) / (performance.now() - it0);
      const t0 = threadCpu(g.proc.pid);
      const w = await rig.wrk(g.url, script, conns, Number(values.seconds));
      const t1 = threadCpu(g.proc.pid);
      const key = `${g.v.id} c${conns}`;
      rows[key] ??= {};
      const row = rows[key];
      const put = (k: string, x: number) => {
        row[k] ??= [];
        row[k].push(x);
      };
      let all = 0;
      for (const [k, v] of t1) {
        if (k === "page faults" || k === "js wakeups") continue;
        const d = (v - (t0.get(k) ?? 0)) / w.requests;
        if (k !== "js (kernel)") all += d;
        put(k, d);
      }
      put("all", all);
      put("net", all - (idleUsPerMs * w.durationUs) / 1000 / w.requests);
      put("p50", w.p50);
      console.error(
        `round ${r} ${key}: all ${all.toFixed(1)} µs, net ${row["net"]!.at(-1)!.toFixed(1)}, js ${row["js"]!.at(-1)!.toFixed(1)}, p50 ${w.p50} µs, ${w.requests} req`,
      );
    }
  }
}
for (const g of gws) signal(g.proc, "SIGCONT");
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
for (const [k, v] of Object.entries(rows))
  console.log(
    `${k}: ${Object.entries(v)
      .filter(([, a]) => med(a) >= 0.5)
      .map(([n, a]) => `${n} ${med(a).toFixed(1)}`)
      .join(", ")}`,
  );
await stopAll();
console.log(`work dir ${rig.work}`);
