/**
 * Before/after micro-costs of the SSE answer path's accounting tap (src/proxy/accounting.ts
 * and the framer under it), in one process: this tree against an earlier one
 * (BENCH_BASELINE, e.g. a `git worktree` of an older commit), batches interleaved so the
 * machine's noise falls on both alike.
 *
 * The stream is the overhead benchmark's own (bench/overhead/upstream.ts): a role chunk,
 * 20 tokens, a finish chunk, the usage chunk the gateway asks for, `[DONE]`; fed as one
 * chunk (what the relay reads when the pod sends it at once: the sse32 case) and as one
 * chunk per event (a pod that streams token by token), with and without dropping the
 * usage event (the gateway drops it when the client did not ask for usage).
 *
 *   BENCH_BASELINE=/tmp/base bun bench/overhead/stream-micro.ts
 *   BENCH_BASELINE=/tmp/base node --import tsx bench/overhead/stream-micro.ts
 *
 * Also the relay's direct shape (Bun's) with the tap over one chunk per event, as a paced
 * pod's stream arrives (the sse32p case): what our JS costs per chunk, apart from Bun's
 * own read and write paths.
 *
 * And the whole gateway in process (this tree and the baseline), a streamed answer against
 * a JSON one, the pod answering as the wire client hands answers over: what a stream costs
 * the gateway over a JSON answer apart from the sockets (CPU µs per request).
 *
 * Prints µs per stream: the best of 9 batches per side.
 */
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chatBody, chatCpu, queuedStreamGateway } from "../lib/queued-stream-pod.ts";
import { STREAM_EVENTS } from "./bodies.ts";

const BASE = process.env["BENCH_BASELINE"];
if (!BASE) throw new Error("set BENCH_BASELINE to an earlier tree (with node_modules)");
const enc = new TextEncoder();
const here = (p: string) => new URL(`../../${p}`, import.meta.url).href;
const there = (p: string) => pathToFileURL(join(BASE, p)).href;

type Tap = { chunk(b: Uint8Array): Uint8Array | undefined; flush(): Uint8Array | undefined };
type Accounting = new (o: { kind: string; now: () => number; dropUsageEvent?: boolean }) => Tap;

const events = STREAM_EVENTS;
const oneChunk = [enc.encode(events.join(""))];
const perEvent = events.map((e) => enc.encode(e));
const now = () => performance.now();

function batch(fn: () => void, n: number): number {
  const t = performance.now();
  for (let i = 0; i < n; i++) fn();
  return ((performance.now() - t) * 1000) / n;
}

const cases = (Acc: Accounting) => {
  const pump = (chunks: Uint8Array[], drop: boolean) => () => {
    const tap = new Acc({ kind: "chat", now, dropUsageEvent: drop });
    for (const c of chunks) tap.chunk(c);
    tap.flush();
  };
  return {
    "SSE tap, whole stream in one chunk (µs per stream)": pump(oneChunk, false),
    "SSE tap, one chunk, usage event dropped (µs per stream)": pump(oneChunk, true),
    "SSE tap, one chunk per event (µs per stream)": pump(perEvent, false),
    "SSE tap, one chunk per event, usage event dropped (µs per stream)": pump(perEvent, true),
  };
};

/**
 * The relay's direct shape (Bun's) over one chunk per event, as a paced pod's stream
 * arrives (sse32p): each read a settled promise, as a native reader's, the tap on, the
 * idle watch on (one timer per stream), writes to a destination that takes everything.
 * Needs a baseline whose relay takes `direct` as a function (from 131be0e on).
 */
type Relay = (
  source: { read(): Promise<{ done: boolean; value?: Uint8Array }>; cancel(): Promise<void> },
  opts: object,
) => unknown;
/** What one stream asked of the clock and the timers (the trace below counts them). */
const counts = { clock: 0, timers: 0, cleared: 0, writes: 0, flushes: 0 };
const countingClock = {
  now: () => {
    counts.clock++;
    return now();
  },
};
const countingTimer = (fn: () => void, ms: number) => {
  counts.timers++;
  const id = setTimeout(fn, ms);
  return () => {
    counts.cleared++;
    clearTimeout(id);
  };
};
/**
 * A pod's chunk as the relay's read gets it: settled at once (`settled`, the in-process
 * floor), or after a macrotask (`paced`: each chunk wakes the loop, as a socket read does).
 */
const nextTick = () => new Promise<void>((r) => setImmediate(r));
const relayed =
  (relay: Relay, Acc: Accounting, paced = false, trace = false) =>
  async () => {
    let i = 0;
    const item = () => (i < perEvent.length ? { done: false, value: perEvent[i++]! } : { done: true });
    const source = {
      read: paced ? () => nextTick().then(item) : () => Promise.resolve(item()),
      cancel: () => Promise.resolve(),
    };
    let pull: ((c: object) => Promise<void>) | undefined;
    relay(source, {
      sse: true,
      tap: new Acc({ kind: "chat", now: trace ? countingClock.now : now, dropUsageEvent: true }),
      idleTimeoutMs: 60_000,
      ...(trace ? { clock: countingClock, setTimer: countingTimer } : {}),
      onEnd: () => {},
      abortUpstream: () => {},
      direct: (s: { pull(c: object): Promise<void> }) => {
        pull = (c) => s.pull(c);
        return undefined;
      },
    });
    if (!pull) return false; // a relay without the direct-function shape
    await pull({
      write: (b: Uint8Array) => {
        counts.writes++;
        return b.byteLength;
      },
      flush: () => {
        counts.flushes++;
        return 0;
      },
      close: () => {},
    });
    return true;
  };

async function batchAsync(fn: () => Promise<unknown>, n: number): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return ((performance.now() - t) * 1000) / n;
}

const before = cases((await import(there("src/proxy/accounting.ts"))).SseAccounting);
const after = cases((await import(here("src/proxy/accounting.ts"))).SseAccounting);
const relayBefore = relayed(
  (await import(there("src/proxy/relay.ts"))).relay,
  (await import(there("src/proxy/accounting.ts"))).SseAccounting,
);
const relayAfter = relayed(
  (await import(here("src/proxy/relay.ts"))).relay,
  (await import(here("src/proxy/accounting.ts"))).SseAccounting,
);
const runtime = typeof Bun !== "undefined" ? `Bun ${Bun.version}` : `Node ${process.version}`;
console.log(`${runtime}: before (${BASE}) → after (this tree), best of 9 interleaved batches`);
for (const k of Object.keys(after) as (keyof typeof after)[]) {
  let b = Number.POSITIVE_INFINITY;
  let a = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 9; i++) {
    b = Math.min(b, batch(before[k], 2000));
    a = Math.min(a, batch(after[k], 2000));
  }
  console.log(`  ${k}: ${b.toFixed(2)} → ${a.toFixed(2)} (${(b / a).toFixed(2)}x)`);
}
{
  const k = "relay, direct shape, tap and idle watch on, one chunk per event (µs per stream)";
  const withBase = await relayBefore();
  let b = Number.POSITIVE_INFINITY;
  let a = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 9; i++) {
    if (withBase) b = Math.min(b, await batchAsync(relayBefore, 2000));
    a = Math.min(a, await batchAsync(relayAfter, 2000));
  }
  if (withBase) console.log(`  ${k}: ${b.toFixed(2)} → ${a.toFixed(2)} (${(b / a).toFixed(2)}x)`);
  else console.log(`  ${k}: ${a.toFixed(2)} (the baseline's relay has no direct-function shape)`);
}
{
  const k = "relay, direct shape, paced (a macrotask per chunk), tap and idle watch on (µs per stream)";
  const pacedBefore = relayed(
    (await import(there("src/proxy/relay.ts"))).relay,
    (await import(there("src/proxy/accounting.ts"))).SseAccounting,
    true,
  );
  const pacedAfter = relayed(
    (await import(here("src/proxy/relay.ts"))).relay,
    (await import(here("src/proxy/accounting.ts"))).SseAccounting,
    true,
  );
  const withBase = await pacedBefore();
  let b = Number.POSITIVE_INFINITY;
  let a = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 9; i++) {
    if (withBase) b = Math.min(b, await batchAsync(pacedBefore, 500));
    a = Math.min(a, await batchAsync(pacedAfter, 500));
  }
  console.log(`  ${k}: ${withBase ? `${b.toFixed(2)} → ` : ""}${a.toFixed(2)}`);
}
{
  // Per stream: what the relay and the tap ask of the clock and the timers, and its writes.
  const trace = relayed(
    (await import(here("src/proxy/relay.ts"))).relay,
    (await import(here("src/proxy/accounting.ts"))).SseAccounting,
    true,
    true,
  );
  for (const key of Object.keys(counts) as (keyof typeof counts)[]) counts[key] = 0;
  const n = 200;
  for (let i = 0; i < n; i++) await trace();
  const per = (v: number) => (v / n).toFixed(1);
  console.log(
    `  per stream of ${perEvent.length} chunks (this tree): clock reads ${per(counts.clock)}, timers set ${per(counts.timers)} / cleared ${per(counts.cleared)}, writes ${per(counts.writes)}, flushes ${per(counts.flushes)}`,
  );
}
{
  // The wire client's parse of a pod's answer head (seventh pass): every answer on Bun pays
  // it, and a stream's first byte waits for it. Heads as Bun.serve (the mock pod) and
  // uvicorn (vLLM) write them, with their first body bytes.
  const heads: Record<string, string> = {
    "Bun.serve SSE":
      "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nDate: Sat, 05 Dec 2026 21:00:00 GMT\r\nContent-Length: 4321\r\n\r\ndata: {}\n\n",
    "uvicorn SSE, chunked":
      "HTTP/1.1 200 OK\r\ndate: Sat, 05 Dec 2026 21:00:00 GMT\r\nserver: uvicorn\r\ncontent-type: text/event-stream; charset=utf-8\r\ntransfer-encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n",
    "Bun.serve JSON":
      "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nDate: Sat, 05 Dec 2026 21:00:00 GMT\r\nContent-Length: 300\r\n\r\n{}",
  };
  const frame =
    'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" tok"}}]}\n\n';
  heads["uvicorn SSE, head and 22 chunks (a stream's bytes)"] =
    `${heads["uvicorn SSE, chunked"]!.split("\r\n\r\n")[0]}\r\n\r\n` +
    `${frame.length.toString(16)}\r\n${frame}\r\n`.repeat(22) +
    "0\r\n\r\n";
  const parsers = async (url: (p: string) => string) => {
    const { ResponseParser } = await import(url("src/runtime/http1-parse.ts"));
    return Object.entries(heads).map(([name, wire]) => {
      const bytes = Buffer.from(wire, "latin1");
      const p = new ResponseParser({ head: () => {}, body: () => {} });
      return [
        name,
        () => {
          p.reset(false);
          p.feed(bytes);
        },
      ] as const;
    });
  };
  const before = await parsers(there);
  const after = await parsers(here);
  for (let k = 0; k < before.length; k++) {
    let b = Number.POSITIVE_INFINITY;
    let a = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 9; i++) {
      b = Math.min(b, batch(before[k]![1], 20000));
      a = Math.min(a, batch(after[k]![1], 20000));
    }
    console.log(
      `  wire client, an answer's head parsed, ${before[k]![0]} (µs): ${b.toFixed(2)} → ${a.toFixed(2)} (${(b / a).toFixed(2)}x)`,
    );
  }
}
{
  // The whole gateway in process (sixth pass): a streamed chat completion (the stream
  // above, in one chunk, as sse32's pod sends it) against a JSON one, the pod answering
  // as the runtime's wire client hands an answer over (../lib/queued-stream-pod.ts: the
  // JSON one as bytes, the stream as a queue filled in a microtask, `microtask`), Bun's
  // direct streams on.
  // The difference is what a stream costs the gateway over a JSON answer, apart from
  // the sockets. CPU µs per request, best of 5 interleaved rounds.
  const gateway = (root: string) =>
    queuedStreamGateway(root, {
      stream: oneChunk[0]!,
      delivery: "microtask",
      directStreams: typeof Bun !== "undefined" ? true : undefined,
    });
  const trees = {
    before: await gateway(BASE),
    after: await gateway(fileURLToPath(new URL("../..", import.meta.url))),
  };
  const best: Record<string, number> = {};
  for (let round = 0; round < 6; round++)
    for (const [tree, gw] of Object.entries(trees))
      for (const stream of [false, true]) {
        const key = `${tree} ${stream ? "stream" : "json"}`;
        const { us } = await chatCpu(gw, chatBody(stream), round === 0 ? 2000 : 5000);
        if (round > 0) best[key] = Math.min(best[key] ?? Number.POSITIVE_INFINITY, us);
      }
  for (const tree of Object.keys(trees)) {
    const json = best[`${tree} json`]!;
    const stream = best[`${tree} stream`]!;
    console.log(
      `  whole gateway in process, ${tree}: JSON ${json.toFixed(1)}, stream ${stream.toFixed(1)} (a stream +${(stream - json).toFixed(1)} µs CPU)`,
    );
  }
}
