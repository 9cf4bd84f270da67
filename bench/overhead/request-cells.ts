/**
 * Heap cells and time a call of one piece of the request path costs on Bun, two variants side
 * by side (issue 19, fourteenth pass, "request"): attempt (a JSON answer), the body read.
 * Each round: a full collection, heapStats(), N calls awaited 32 at a time, the counts again;
 * variants alternate round by round (A B A B ...).
 *
 *   bun bench/overhead/request-cells.ts <moduleA> <moduleB> [--what attempt|attempt-stream|body|body-real|scope] [--rounds 15]
 */
import { heapStats } from "bun:jsc";
import { resolve } from "node:path";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { what: { type: "string", default: "attempt" }, rounds: { type: "string", default: "15" } },
});
const ROUNDS = Number(values.rounds);
const N = 32 * 400;
function byType(): Record<string, number> {
  return heapStats().objectTypeCounts as Record<string, number>;
}
const mods = await Promise.all(positionals.map((p) => import(resolve(p))));

const answer = { status: 200, ok: true, headers: new Headers({ "content-type": "application/json" }) };
/** The pod call's promise, pending when attempt takes it (as the wire client's is): settled after the batch is sent. */
const toAnswer: ((r: Response) => void)[] = [];
const fetchFn = () => {
  const { promise, resolve } = Promise.withResolvers<Response>();
  toAnswer.push(resolve);
  return promise;
};
const body = new Uint8Array(64);

/** A streamed answer whose pod client offers its chunks (as Bun's wire client does), first chunk in. */
const CHUNK_SOURCE = Symbol.for("inference-gateway.chunkSource");
const chunk = { done: false as const, value: new Uint8Array(32) };
const streamed = () => ({
  status: 200,
  ok: true,
  headers: new Headers({ "content-type": "text/event-stream" }),
  [CHUNK_SOURCE]: () => ({
    read: () => Promise.resolve(chunk),
    cancel: () => Promise.resolve(),
  }),
});

type Run = () => Promise<unknown>;
function runner(mod: Record<string, (...a: unknown[]) => Promise<unknown>>): Run {
  if (values.what === "attempt")
    return () =>
      mod["attempt"]!({
        fetch: fetchFn,
        url: "http://127.0.0.1:1/v1/chat/completions",
        headers: new Headers(),
        body,
        clientSignal: new AbortController().signal,
        responseTimeoutMs: 30_000,
        firstByteTimeoutMs: undefined,
        retryOn: undefined,
        closing: undefined,
        setTimer: undefined,
        wholeStreams: false,
      });
  if (values.what === "attempt-stream")
    return () =>
      mod["attempt"]!({
        fetch: () => Promise.resolve(streamed() as unknown as Response),
        url: "http://127.0.0.1:1/v1/chat/completions",
        headers: new Headers(),
        body,
        clientSignal: new AbortController().signal,
        responseTimeoutMs: 30_000,
        firstByteTimeoutMs: 10_000,
        retryOn: undefined,
        closing: undefined,
        setTimer: undefined,
        wholeStreams: true,
      });
  if (values.what === "scope") {
    // The scope stage of a tree (its src/stages/scope.ts): open, two held resources, close.
    const stage = mod["scope"]!({
      clock: { now: () => performance.now() },
      lifecycle: { shuttingDown: false },
      metrics: { series: () => ({}) },
      logger: { request: () => {} },
    }) as unknown as {
      open(x: unknown): void;
      close(x: unknown, res: Response): void;
    };
    const request = new Request("http://gw/v1/chat/completions", { method: "POST" });
    const res = new Response(null, { status: 200 });
    const held = { release: () => {} };
    return () => {
      const x = {
        scope: undefined as unknown as { hold(r: unknown): void },
        requestId: "r",
        request,
        headers: request.headers,
        res: undefined,
      };
      stage.open(x);
      x.scope.hold(held);
      x.scope.hold(held);
      stage.close(x, res);
      return Promise.resolve();
    };
  }
  if (values.what === "body-real") {
    const text = JSON.stringify({
      model: "m",
      messages: [{ role: "user", content: "Hello there, how are you today?" }],
    });
    const headers = { "content-type": "application/json", "content-length": String(text.length) };
    const limits = { limit: 1 << 20, timeoutMs: 30_000 };
    return () =>
      mod["readBody"]!(
        new Request("http://gw/v1/chat/completions", { method: "POST", headers, body: text }),
        limits,
      );
  }
  const payload = new Uint8Array(200);
  const opts = { limit: 1 << 20, timeoutMs: 30_000 };
  const request = {
    headers: new Headers({ "content-length": "200" }),
    bytes: () => Promise.resolve(payload),
    arrayBuffer: () => Promise.resolve(payload.buffer),
    signal: new AbortController().signal,
  };
  return () => mod["readBody"]!(request, opts);
}

async function batch(run: Run, n: number): Promise<void> {
  for (let i = 0; i < n; i += 32) {
    const ps: Promise<unknown>[] = [];
    for (let j = 0; j < 32; j++) ps.push(run());
    for (const r of toAnswer.splice(0)) r(answer as unknown as Response);
    await Promise.all(ps);
  }
}

const runs = mods.map(runner);
for (const r of runs) await batch(r, N * 3);
const cells: number[][] = runs.map(() => []);
const times: number[][] = runs.map(() => []);
const kinds: Map<string, number[]>[] = runs.map(() => new Map());
for (let round = 0; round < ROUNDS; round++)
  for (let v = 0; v < runs.length; v++) {
    Bun.gc(true);
    const before = byType();
    await batch(runs[v]!, 32 * 12);
    const after = byType();
    let n = 0;
    for (const k of Object.keys(after)) {
      const d = (after[k]! - (before[k] ?? 0)) / (32 * 12);
      n += d;
      kinds[v]!.set(k, [...(kinds[v]!.get(k) ?? []), d]);
    }
    cells[v]!.push(n);
    const t0 = Bun.nanoseconds();
    await batch(runs[v]!, N);
    times[v]!.push((Bun.nanoseconds() - t0) / N);
  }
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
for (let v = 0; v < runs.length; v++)
  console.log(
    `${positionals[v]}: ${median(cells[v]!).toFixed(2)} cells, ${median(times[v]!).toFixed(0)} ns a call (median of ${ROUNDS})`,
  );
for (let v = 0; v < runs.length; v++)
  console.log(
    "  ",
    [...kinds[v]!]
      .map(([k, xs]) => [k, median(xs)] as const)
      .filter(([, m]) => Math.abs(m) >= 0.05)
      .map(([k, m]) => `${k} ${m.toFixed(2)}`)
      .join(", "),
  );
if (runs.length === 2) {
  const d = times[1]!.map((t, i) => t - times[0]![i]!);
  console.log(
    `B - A: median ${median(d).toFixed(0)} ns, B lower in ${d.filter((x) => x < 0).length} of ${d.length}`,
  );
}
process.exit(0);
