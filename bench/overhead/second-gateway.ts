/**
 * Does a gateway run slower once another gateway of the same code has run in its process?
 * (Issue 19, twenty-fifth pass: the start-up warm-up's throwaway gateway, src/runtime/warm-up.ts,
 * read a few per cent dearer at steady state end to end, within the machine's noise. In process
 * the noise is smaller.)
 *
 * Fresh processes in pairs, alternated, each pinned to core 1: "one" builds a gateway and
 * measures it; "two" first builds another gateway of the same code, sends it `--before`
 * requests and stops it, then does what "one" does (`--second reload`: instead, the measured
 * gateway's own config is swapped in 5 times with `--before` requests between, as a reload
 * does). The measured gateway: 4 endpoints, the default profile, metrics and the request log on
 * (written nowhere), its fetch seam answering at once (bench/lib/in-process.ts); warmed by 40k
 * small chat requests, then 7 batches of 20k, 8 at a time; a process prints the median batch's
 * CPU µs a request.
 *
 *   flock /tmp/bench.lock bun bench/overhead/second-gateway.ts [--pairs 8] [--before 10000] [--second reload]
 */
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { parseConfig } from "../../src/config/load.ts";
import { gatewayAt, gatewayYaml, perRequest, postChat } from "../lib/in-process.ts";
import { median } from "./split-lib.ts";

const { values } = parseArgs({
  options: {
    pairs: { type: "string", default: "8" },
    /** What "two" is: another gateway first ("gateway"), or the measured one's config swapped in 5 times ("reload"). */
    second: { type: "string", default: "gateway" },
    before: { type: "string", default: "10000" },
    child: { type: "string" },
  },
});
const ROOT = resolve(import.meta.dir, "../..");
const BODY = JSON.stringify({
  model: "m",
  messages: [{ role: "user", content: "Hello there, how are you today?" }],
  max_tokens: 16,
});

async function child(mode: string): Promise<void> {
  if (mode === "two") {
    const other = await gatewayAt(ROOT);
    await perRequest(() => postChat(other, BODY), Number(values.before), 8);
    await (other as unknown as { stop(): Promise<void> }).stop();
  }
  const gw = await gatewayAt(ROOT);
  if (mode === "reload") {
    // The same config swapped in 5 times, requests between, as a ConfigMap edited now and then.
    const holder = (gw as unknown as { deps: { config: { swap(c: unknown): void } } }).deps.config;
    for (let i = 0; i < 5; i++) {
      await perRequest(() => postChat(gw, BODY), Number(values.before) / 5, 8);
      holder.swap(parseConfig(gatewayYaml(), "bench.yaml"));
    }
  }
  await perRequest(() => postChat(gw, BODY), 40_000, 8);
  const batches: number[] = [];
  for (let i = 0; i < 7; i++) batches.push(await perRequest(() => postChat(gw, BODY), 20_000, 8));
  console.log(JSON.stringify({ mode, us: median(batches) }));
  process.exit(0);
}

function run(mode: string): number {
  const out = execFileSync(
    "taskset",
    ["-c", "1", process.execPath, import.meta.path, "--child", mode, "--before", values.before],
    { encoding: "utf8" },
  );
  return (JSON.parse(out.trim().split("\n").at(-1)!) as { us: number }).us;
}

if (values.child) await child(values.child);
else {
  const pairs = Number(values.pairs);
  const ratios: number[] = [];
  const ones: number[] = [];
  const twos: number[] = [];
  for (let p = 0; p < pairs; p++) {
    const order = p % 2 === 0 ? ["one", "two"] : ["two", "one"];
    const r: Record<string, number> = {};
    for (const m of order) r[m] = run(m === "two" && values.second === "reload" ? "reload" : m);
    ones.push(r["one"]!);
    twos.push(r["two"]!);
    ratios.push(r["two"]! / r["one"]!);
    console.error(
      `pair ${p} (${order.join(" then ")}): one ${r["one"]!.toFixed(2)} µs, two ${r["two"]!.toFixed(2)} µs`,
    );
  }
  console.log(
    `a gateway alone ${median(ones).toFixed(2)} µs a request, ${values.second === "reload" ? "after 5 reloads of its config" : "after another gateway of the same code"} (${values.before} requests) ${median(twos).toFixed(2)} µs; per pair two ÷ one median ${median(ratios).toFixed(3)}, two higher in ${ratios.filter((x) => x > 1).length} of ${pairs}`,
  );
}
