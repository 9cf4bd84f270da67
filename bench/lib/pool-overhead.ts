/**
 * Overhead per request against the number of pools (and endpoints), for the many-pools
 * benchmark: gateway processes (`bun run src/runtime/bun.ts`) in front of the overhead
 * benchmark's fast mock upstream (bench/overhead/upstream.ts, one process, one port per
 * endpoint), loaded by wrk with the same request mix (half to the first pool's model,
 * half to the last's). CPU per request is the gateway process's utime + stime from
 * /proc/<pid>/stat over the wrk run ÷ requests; "net" subtracts the same process's CPU
 * rate with no traffic (background scraping and discovery), measured just before.
 *
 * Layout as bench/overhead: wrk and the upstream on core 0, the gateway under test on
 * core 1, the other gateways SIGSTOPped while one is measured.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  CLK_TCK,
  cpuTicks,
  firstJsonLine,
  freePort,
  type Proc,
  run,
  signal,
  sleep,
  start,
} from "../overhead/procs.ts";
import { FLOW_EPP } from "./flow-epp.ts";

const ROOT = resolve(import.meta.dir, "../..");
/** BENCH_PIN=1: pin as bench/overhead does (off by default: on a machine others load, a pinned process waits for its one core). */
const PIN = process.env["BENCH_PIN"] === "1";
const CORE = PIN
  ? { load: "0", upstream: "0", proxy: "1" }
  : { load: undefined, upstream: undefined, proxy: undefined };

const core = (c: string | undefined) => (c === undefined ? {} : { core: c });

export interface Variant {
  id: string;
  pools: number;
  endpointsPerPool: number;
  /** Scraping every 10 min instead of every 50 ms: the request path alone. */
  quiet: boolean;
  /** Flow control on, with the README's flow-control EndpointPickerConfig (`FLOW_EPP`). */
  flow?: boolean;
  /** Pods that report a full queue (pool-micro only): every other one, or all but the last. */
  full?: "half" | "allButLast";
}

/** The model the k-th pool's pods serve; with one pool, its pods serve the first and the last. */
export const modelOf = (k: number) => `model-${k}`;

export class OverheadRig {
  readonly work = join(tmpdir(), `many-pools-${new Date().toISOString().replace(/[:.]/g, "-")}`);
  private upstream: Proc | undefined;
  ports: number[] = [];

  constructor(private readonly lastModel: string) {
    mkdirSync(this.work, { recursive: true });
  }

  log(name: string): string {
    return join(this.work, `${name}.log`);
  }

  async startUpstream(ports: number): Promise<Proc> {
    this.upstream = start(
      "upstream",
      [process.execPath, "bench/overhead/upstream.ts", "--ports", Array(ports).fill(0).join(",")],
      { ...core(CORE.upstream), stdout: "pipe", log: this.log("upstream"), cwd: ROOT },
    );
    this.ports = (await firstJsonLine<{ ports: number[] }>(this.upstream)).ports;
    return this.upstream;
  }

  /**
   * The variant's config: one InferencePool document per pool selecting its endpoints by
   * label, endpoints with their models given (no discovery), default scheduling profile,
   * default scrape interval, logLevel info (as bench/overhead's gateway).
   */
  config(v: Variant): string {
    const endpoints: string[] = [];
    const docs: string[] = [];
    for (let k = 0; k < v.pools; k++) {
      const models = v.pools === 1 ? [modelOf(0), this.lastModel] : [modelOf(k)];
      for (let i = 0; i < v.endpointsPerPool; i++) {
        const port = this.ports[k * v.endpointsPerPool + i];
        if (port === undefined) throw new Error(`${v.id}: the upstream has too few ports`);
        endpoints.push(
          `  - { name: p${k}-e${i}, address: "127.0.0.1:${port}", models: [${models.join(", ")}], labels: { app: pool-${k} } }`,
        );
      }
      const ref = v.flow ? ", endpointPickerRef: { name: flow-epp }" : "";
      docs.push(
        "---",
        "apiVersion: inference.networking.k8s.io/v1",
        "kind: InferencePool",
        `metadata: { name: pool-${k} }`,
        `spec: { selector: { matchLabels: { app: pool-${k} } }, targetPorts: [{ number: 8000 }]${ref} }`,
      );
    }
    // Quiet: the detector's staleness raised with the data layer's (its 2 s would count
    // every pod saturated once the one scrape is 2 s old).
    if (v.flow)
      docs.push(
        "---",
        v.quiet
          ? FLOW_EPP.replace("metricsStalenessThreshold: 2s", "metricsStalenessThreshold: 20m")
          : FLOW_EPP,
      );
    // A folder of its own: the gateway watches its config's folder, and the logs are written
    // to the work dir (each write would have every gateway read its config again).
    const dir = join(this.work, "config");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${v.id}.yaml`);
    writeFileSync(
      file,
      [
        `# many-pools overhead: ${v.pools} pool(s) x ${v.endpointsPerPool} endpoints${v.quiet ? ", no scraping" : ""}`,
        "apiVersion: gateway.inference.dev/v1alpha1",
        "kind: GatewayConfig",
        "hostname: 127.0.0.1",
        "logLevel: info",
        // Quiet: no scrape after the first, and that one kept fresh (else every request takes
        // the candidate filter's path for lagging endpoints, which no deployment runs).
        ...(v.quiet ? ["dataLayer: { scrapeIntervalMs: 600000, stalenessMs: 1200000 }"] : []),
        "endpoints:",
        ...endpoints,
        ...docs,
        "",
      ].join("\n"),
    );
    return file;
  }

  /**
   * Starts the variant's gateway on core 1 and waits until /readyz and /v1/models say so;
   * `root`: another checkout's gateway (a baseline), this one's by default.
   */
  async launch(v: Variant, extra: string[] = [], root = ROOT): Promise<{ proc: Proc; port: number }> {
    const port = await freePort();
    const proc = start(
      v.id,
      [
        process.execPath,
        ...extra,
        "run",
        "src/runtime/bun.ts",
        "--config",
        this.config(v),
        "--port",
        String(port),
      ],
      {
        ...core(CORE.proxy),
        env: { BUN_CONFIG_MAX_HTTP_REQUESTS: "65535" },
        stdout: "ignore",
        log: this.log(v.id),
        cwd: root,
      },
    );
    await waitReady(`http://127.0.0.1:${port}`, this.lastModel);
    return { proc, port };
  }

  /**
   * A wrk script sending the bodies in turn. With `unique`, every "@@N@@" in a body is
   * replaced by a number no other request of any run has (wrk's counter from a start the
   * clock gives): each request then carries a prompt the gateway has never seen.
   */
  script(name: string, bodies: object[], unique = false): string {
    const files = bodies.map((b, i) => {
      const f = join(this.work, `${name}-${i}.json`);
      writeFileSync(f, JSON.stringify(b));
      return f;
    });
    const script = join(this.work, `${name}.lua`);
    writeFileSync(
      script,
      [
        "local bodies = {}",
        ...files.map(
          (f, i) =>
            `do local h = assert(io.open("${f}", "rb")); bodies[${i + 1}] = h:read('*a'); h:close() end`,
        ),
        "local i = 0",
        "local n = os.time() * 1000000",
        'local headers = { ["Content-Type"] = "application/json" }',
        "request = function()",
        `  i = i % ${files.length} + 1`,
        ...(unique
          ? [
              "  n = n + 1",
              '  local body = string.gsub(bodies[i], "@@N@@", string.format("%d", n))',
              '  return wrk.format("POST", "/v1/chat/completions", headers, body)',
            ]
          : ['  return wrk.format("POST", "/v1/chat/completions", headers, bodies[i])']),
        "end",
        "done = function(summary, latency, requests)",
        "  local e = summary.errors",
        '  io.write(string.format(\'\\nWRKJSON {"requests":%d,"durationUs":%d,"errors":%d,"p50":%d,"p90":%d,"p99":%d}\\n\',',
        "    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,",
        "    latency:percentile(50), latency:percentile(90), latency:percentile(99)))",
        "end",
        "",
      ].join("\n"),
    );
    return script;
  }

  async wrk(url: string, script: string, conns: number, seconds: number): Promise<WrkResult> {
    const { code, stdout } = await run(
      "wrk",
      ["wrk", "-t1", `-c${conns}`, `-d${seconds}s`, "--timeout", "10s", "-s", script, url],
      { ...core(CORE.load), log: this.log("wrk"), timeoutMs: (seconds + 30) * 1000 },
    );
    const line = stdout.split("\n").find((l) => l.startsWith("WRKJSON "));
    if (!line) throw new Error(`wrk failed (${code}): ${stdout.slice(-500)}`);
    return JSON.parse(line.slice(8)) as WrkResult;
  }
}

export interface WrkResult {
  requests: number;
  durationUs: number;
  errors: number;
  /** µs */
  p50: number;
  p90: number;
  p99: number;
}

export interface Measured {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** Gateway CPU per request, µs: all of it, and less the idle rate measured before. */
  cpuUs: number;
  netCpuUs: number;
  /** Gateway CPU with no traffic, µs per second (scraping, discovery). */
  idleUsPerS: number;
}

/**
 * One measurement of a gateway: SIGCONT it (the others stay stopped), let it settle,
 * measure its idle CPU rate for `idleS`, then run wrk and read its CPU again.
 */
export async function measureGateway(
  rig: OverheadRig,
  target: { proc: Proc | undefined; url: string },
  others: Proc[],
  c: { script: string; conns: number; seconds: number; idleS: number },
): Promise<Measured> {
  for (const o of others) signal(o, "SIGSTOP");
  const pid = target.proc?.pid;
  if (target.proc) signal(target.proc, "SIGCONT");
  await sleep(300);
  const usPerTick = 1e6 / CLK_TCK;
  let idleUsPerS = 0;
  if (pid !== undefined && c.idleS > 0) {
    const i0 = cpuTicks(pid);
    const t0 = performance.now();
    await sleep(c.idleS * 1000);
    idleUsPerS = ((cpuTicks(pid) - i0) * usPerTick) / ((performance.now() - t0) / 1000);
  }
  const cpu0 = pid !== undefined ? cpuTicks(pid) : 0;
  const w = await rig.wrk(target.url, c.script, c.conns, c.seconds);
  const cpu = pid !== undefined ? (cpuTicks(pid) - cpu0) * usPerTick : 0;
  const n = Math.max(1, w.requests);
  return {
    rps: (w.requests * 1e6) / w.durationUs,
    p50Ms: w.p50 / 1000,
    p99Ms: w.p99 / 1000,
    errors: w.errors,
    cpuUs: cpu / n,
    netCpuUs: (cpu - idleUsPerS * (w.durationUs / 1e6)) / n,
    idleUsPerS,
  };
}

async function waitReady(url: string, model: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < until) {
    try {
      const ready = await fetch(`${url}/readyz`);
      const text = await (await fetch(`${url}/v1/models`)).text();
      if (ready.ok && text.includes(`"id":"${model}"`)) return;
      last = `readyz ${ready.status}, models ${text.slice(0, 100)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(200);
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms: ${last}`);
}
