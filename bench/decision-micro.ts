/**
 * One scheduling decision as a request makes it, in process, this tree against another
 * checkout in alternating rounds (issue 19, twelfth pass): on a micro gateway's own pool
 * (bench/lib/pool-micro.ts: default profile, metrics on, scraped once, no timers), the
 * data layer's candidate filter, `schedule(…, deferred)`, then the lifecycle as forward and
 * the scope drive it: `requestSent` (PreRequest hooks and the decision's metrics),
 * `responseReceived`, `release` (the pool scraped before each batch, so its endpoints are
 * fresh). CPU ns a decision (process.cpuUsage over a batch),
 * medians, paired differences round by round (what machine noise moves both by cancels),
 * and the clock readings a decision takes (`performance.now` counted for one batch).
 *
 *   bun bench/decision-micro.ts [endpoints=2,4] [rounds=61] [n=4000]
 *
 * BENCH_BASE=<checkout> (default /tmp/base12) is the other tree. BENCH_PROMPT=new sends a
 * prompt of one full block and more that no decision has sent before (a counter): no endpoint
 * holds it, so the picker weighs its whole band by rendezvous (twenty-fourth pass); the
 * default is a prompt under one block, which has no rendezvous key.
 */
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Gateway } from "../src/gateway.ts";
import { microGateway } from "./lib/pool-micro.ts";

const HERE = resolve(fileURLToPath(import.meta.url), "../..");
const BASE = resolve(process.env["BENCH_BASE"] ?? "/tmp/base12");

type Run = (n: number) => Promise<number>;

async function variant(root: string, endpoints: number): Promise<{ run: Run; gateway: Gateway }> {
  const id = `p1e${endpoints}`;
  const gateway = await microGateway(
    { id, pools: 1, endpointsPerPool: endpoints, quiet: true } as Parameters<typeof microGateway>[0],
    "model-9",
    root === HERE ? undefined : root,
  );
  const { usableEndpoints } = (await import(
    pathToFileURL(resolve(root, "src/endpoints/usable.ts")).href
  )) as typeof import("../src/endpoints/usable.ts");
  const pool = gateway.deps.endpoints;
  const { health, clock } = gateway.deps;
  const stalenessMs = gateway.deps.config.current.settings.dataLayer.stalenessMs;
  const fresh = process.env["BENCH_PROMPT"] === "new";
  let asked = 0;
  const short = { model: "model-0", messages: [{ role: "user", content: "Hello, how are you today?" }] };
  const bodyOf = () => {
    if (!fresh) return short;
    asked++;
    const content = `Ticket ${asked}: the customer asks why the invoice for order ${asked} shows two charges. Draft a short, polite reply.`;
    return { model: "model-0", messages: [{ role: "user", content }] };
  };
  const headers = new Headers();
  const answer = { status: 200, headers };
  const run: Run = async (n) => {
    // Scraped before each batch, so the candidates are fresh (within stalenessMs), as in a gateway.
    await gateway.refresh();
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      const usable = usableEndpoints(pool.serving("model-0"), { health, now: clock.now(), stalenessMs });
      const d = gateway.deps.scheduler.schedule(
        { requestId: "r", targetModel: "model-0", body: bodyOf(), kind: "chat", headers },
        usable,
        true,
      );
      const life = d.lifecycle;
      if (life !== undefined) {
        life.requestSent?.();
        life.responseReceived(d.endpoints[0]!, answer);
        life.responseComplete("success");
      }
      // The prefix index records picks in a microtask: let them run as a gateway's turns do.
      if ((i & 31) === 31) await null;
    }
    await null;
    const cpu = process.cpuUsage(cpu0);
    return ((cpu.user + cpu.system) * 1000) / n;
  };
  return { run, gateway };
}

/** `performance.now` calls a decision makes (counted over `n`). */
async function readings(run: Run, n: number): Promise<number> {
  const real = performance.now.bind(performance);
  let count = 0;
  performance.now = () => {
    count++;
    return real();
  };
  try {
    await run(n);
  } finally {
    performance.now = real;
  }
  return count / n;
}

const median = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
};

const [sizes = "2,4", roundsArg = "61", nArg = "4000"] = process.argv.slice(2);
const rounds = Number(roundsArg);
const n = Number(nArg);
for (const e of sizes.split(",").map(Number)) {
  const head = await variant(HERE, e);
  const base = await variant(BASE, e);
  const clocks = [await readings(head.run, 1000), await readings(base.run, 1000)];
  for (let w = 0; w < 3; w++) {
    await head.run(n);
    await base.run(n);
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      a.push(await head.run(n));
      b.push(await base.run(n));
    } else {
      b.push(await base.run(n));
      a.push(await head.run(n));
    }
  }
  const d = a.map((x, i) => x - b[i]!);
  const q1 = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 4)]!;
  console.log(
    `${e} endpoints: head ${median(a).toFixed(0)} ns vs base ${median(b).toFixed(0)} ns a decision ` +
      `(ratio ${(median(a) / median(b)).toFixed(3)}); paired difference median ${median(d).toFixed(0)} ns, ` +
      `lower in ${d.filter((x) => x < 0).length} of ${d.length}; first quartiles ${q1(a).toFixed(0)} vs ${q1(b).toFixed(0)}; ` +
      `clock readings ${clocks[0]!.toFixed(1)} vs ${clocks[1]!.toFixed(1)}`,
  );
  if (process.env["BENCH_VERBOSE"] === "1")
    console.log(
      `  head ${a.map((x) => x.toFixed(0)).join(" ")}\n  base ${b.map((x) => x.toFixed(0)).join(" ")}`,
    );
  await Promise.all([head.gateway.stop(), base.gateway.stop()]);
}
process.exit(0);
