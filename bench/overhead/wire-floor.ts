/**
 * What a 4.3 KiB stream sent at once (sse32) costs the gateway's own pod client and Bun.serve
 * when it is answered as the gateway answers it (issue 19, sixteenth pass): the floor under
 * the gateway's sse32, which bun-split.ts's `bare-wire` (b') does not give, since b' answers an
 * event stream through a web stream over its chunks (chunked: head and chunk, then the
 * terminator, in two sends), where the gateway answers a stream that came whole as bytes
 * (Content-Length, one send).
 *
 * Targets (each on the proxy core, pods and wrk on the other, the others SIGSTOPped, rounds
 * alternating, CPU µs a request of the whole process from /proc):
 *   bare-wire   bench/overhead/bare-bun.ts --wire (b')
 *   wire-bytes  this file's proxy: bare-bun.ts --wire's, but a stream the wire client has
 *               whole (ChunkQueue.whole, as attempt's `wholeStreams` takes it) answered as bytes
 *               with its headers, no tap: the gateway's answer shape without the gateway
 *   bare-fetch  bench/overhead/bare-bun.ts (Bun's fetch, its body piped into Bun.serve)
 *   gw-bun      the gateway as bun-split.ts starts it (default profile, metrics and log on)
 *
 *   flock /tmp/bench.lock npx bun bench/overhead/wire-floor.ts [--cases c32,sse32] [--rounds 4] [--seconds 3] [--warmup 6]
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { wireFetch } from "../../src/runtime/bun-wire.ts";
import { CHUNK_SOURCE } from "../../src/runtime/node-chunks.ts";
import { firstJsonLine, killAllOnExit, type Proc, start, stopAll } from "./procs.ts";
import {
  activate,
  gatewayConfig,
  median,
  PROXY_CORE,
  type SplitTarget,
  splitCases,
  startBunGateway,
  startMockPods,
  threadCpu,
  wrkOn,
} from "./split-lib.ts";

const { values } = parseArgs({
  options: {
    serve: { type: "boolean", default: false },
    upstreams: { type: "string", default: "" },
    cases: { type: "string", default: "c32,sse32" },
    targets: { type: "string", default: "gw-bun,bare-wire,wire-bytes,bare-fetch" },
    rounds: { type: "string", default: "4" },
    seconds: { type: "string", default: "3" },
    warmup: { type: "string", default: "6" },
  },
});

if (values.serve) {
  // The proxy: as bare-bun.ts --wire, with a whole stream answered as bytes.
  const upstreams = values.upstreams.split(",").map((a) => `http://${a}`);
  const wire = wireFetch();
  const decoder = new TextDecoder();
  let next = 0;
  type Whole = { whole?: () => Uint8Array | undefined };
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    async fetch(req) {
      const bytes = await req.arrayBuffer();
      const body = JSON.parse(decoder.decode(bytes)) as { model?: unknown };
      if (typeof body.model !== "string") return new Response("model missing", { status: 400 });
      const headers = new Headers(req.headers);
      headers.delete("host");
      headers.delete("content-length");
      const path = req.url.slice(req.url.indexOf("/", 8));
      const res = await wire(upstreams[next++ % upstreams.length]! + path, {
        method: "POST",
        headers,
        body: new Uint8Array(bytes),
        signal: req.signal,
      });
      const out = new Headers(res.headers);
      out.delete("content-length");
      if (!(res.headers.get("content-type") ?? "").includes("text/event-stream"))
        return new Response(new Uint8Array(await res.arrayBuffer()), { status: res.status, headers: out });
      const source = (res as { [CHUNK_SOURCE]?: () => Whole | undefined })[CHUNK_SOURCE]?.();
      const whole = source?.whole?.();
      if (whole !== undefined)
        return new Response(whole as Uint8Array<ArrayBuffer>, { status: res.status, headers: out });
      return new Response(res.body, { status: res.status, headers: out });
    },
  });
  console.log(JSON.stringify({ port: server.port }));
  process.once("SIGTERM", () => {
    void server.stop(true).then(() => process.exit(0));
  });
} else {
  const ROOT = resolve(import.meta.dir, "../..");
  const WORK = mkdtempSync(join(tmpdir(), "wire-floor-"));
  const BUN = process.execPath;
  const MAXREQ = { BUN_CONFIG_MAX_HTTP_REQUESTS: "65535" };
  const log = (name: string) => join(WORK, `${name}.log`);
  const say = (s: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${s}`);
  const { all, picked } = splitCases(WORK, values.cases);
  killAllOnExit();
  const { ports } = await startMockPods(log("upstream"), ROOT);
  const upstreams = ports.map((p) => `127.0.0.1:${p}`).join(",");
  const targets: SplitTarget[] = [];
  for (const id of values.targets.split(",")) {
    if (id === "gw-bun") {
      const config = gatewayConfig(WORK, id, ports);
      targets.push(await startBunGateway(id, config, { env: MAXREQ, log: log(id), root: ROOT }));
      continue;
    }
    const argv =
      id === "wire-bytes"
        ? [BUN, import.meta.path, "--serve", "--upstreams", upstreams]
        : id === "bare-wire"
          ? [BUN, "bench/overhead/bare-bun.ts", "--wire", "--port", "0", "--upstreams", upstreams]
          : id === "bare-fetch"
            ? [BUN, "bench/overhead/bare-bun.ts", "--port", "0", "--upstreams", upstreams]
            : undefined;
    if (argv === undefined)
      throw new Error(`unknown target ${id} (gw-bun, bare-wire, wire-bytes, bare-fetch)`);
    const proc: Proc = start(id, argv, {
      core: PROXY_CORE,
      env: MAXREQ,
      stdout: "pipe",
      log: log(id),
      cwd: ROOT,
    });
    targets.push({ id, proc, port: (await firstJsonLine<{ port: number }>(proc)).port });
  }
  for (const t of targets) {
    say(`warm-up ${t.id}`);
    await activate(targets, t);
    await wrkOn(t, all[0]!, Number(values.warmup), log("wrk"));
    for (const c of picked) await wrkOn(t, c, Math.ceil(Number(values.warmup) / 2), log("wrk"));
  }
  const got = new Map<string, number[]>();
  for (let round = 1; round <= Number(values.rounds); round++)
    for (const c of picked) {
      const k = round % targets.length;
      for (const t of [...targets.slice(k), ...targets.slice(0, k)]) {
        await activate(targets, t);
        const before = threadCpu(t.proc.pid);
        const w = await wrkOn(t, c, Number(values.seconds), log("wrk"));
        const after = threadCpu(t.proc.pid);
        let total = 0;
        for (const [name, us] of after)
          if (name !== "js (kernel)" && name !== "page faults" && name !== "js wakeups")
            total += us - (before.get(name) ?? 0);
        const us = total / w.requests;
        const key = `${c.id} ${t.id}`;
        got.set(key, [...(got.get(key) ?? []), us]);
        say(`round ${round} ${key}: ${us.toFixed(1)} µs a request`);
      }
    }
  console.log("\n| case | target | best | median | rounds |\n|---|---|---:|---:|---|");
  for (const [key, xs] of got) {
    const [c, t] = key.split(" ");
    console.log(
      `| ${c} | ${t} | ${Math.min(...xs).toFixed(1)} | ${median(xs).toFixed(1)} | ${xs.map((x) => x.toFixed(0)).join(" / ")} |`,
    );
  }
  await stopAll();
}
