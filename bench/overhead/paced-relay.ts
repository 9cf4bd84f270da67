/**
 * A paced stream's per-chunk path on Bun, in process, two trees side by side (issue 19,
 * twelfth pass): the wire client's chunk queue (src/runtime/node-chunks.ts ChunkQueue) fed one
 * chunk per macrotask, as the pod socket's data callback feeds it, read through a source shaped
 * as attempt's (the first chunk held, then the queue's reads; `wait` passed on when the tree's
 * queue has it), relayed by the tree's `relay` in its direct shape with its SSE tap and the idle
 * watch on real timers, written to a controller that takes every write at once. PACED_STREAMS
 * streams (32) at a time, each the benchmark pod's 24 events (bodies.ts STREAM_EVENTS) one per
 * chunk; CPU µs a stream over PACED_N streams (3,200) per round, PACED_ROUNDS rounds (15)
 * alternating A B / B A; prints the medians and the median paired difference.
 *
 *   PACED_BASE=/tmp/base12 npx bun bench/overhead/paced-relay.ts
 *   PACED_BASE=/tmp/base12 node --import tsx bench/overhead/paced-relay.ts
 * PACED_HEAD sets the first tree (default this checkout).
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { alternatingRounds, pairedLine } from "../lib/in-process.ts";
import { STREAM_EVENTS } from "./bodies.ts";

const env = process.env;
const N = Number(env["PACED_N"] ?? 3200);
const CONC = Number(env["PACED_STREAMS"] ?? 32);
const ROUNDS = Number(env["PACED_ROUNDS"] ?? 15);
const ROOTS = {
  head: env["PACED_HEAD"] ?? resolve(dirname(fileURLToPath(import.meta.url)), "../.."),
  base: env["PACED_BASE"] ?? "/tmp/base12",
};
const enc = new TextEncoder();
const chunks = STREAM_EVENTS.map((e) => enc.encode(e));
const immediate = () => new Promise<void>((r) => setImmediate(r));

type ReadResult = ReadableStreamReadResult<Uint8Array>;
interface Queue {
  push(chunk: Uint8Array): boolean;
  end(): void;
  read(): Promise<ReadResult>;
  cancel(reason?: unknown): Promise<void>;
  /** `(waiter)` since the nineteenth pass, `(arrived, broke)` before: passed on as given. */
  wait?(...args: unknown[]): boolean;
}

async function tree(root: string) {
  const { relay } = await import(resolve(root, "src/proxy/relay.ts"));
  const { SseAccounting } = await import(resolve(root, "src/proxy/accounting.ts"));
  const { ChunkQueue } = await import(resolve(root, "src/runtime/node-chunks.ts"));
  let writes = 0;
  const controller = {
    write: (b: Uint8Array) => {
      writes++;
      return b.byteLength;
    },
    flush: () => 0,
    close: () => {},
  };
  /** One stream: its first chunk held (as attempt hands it over), the rest one per macrotask. */
  async function one(): Promise<void> {
    const queue: Queue = new ChunkQueue(
      () => {},
      () => {},
      64 * 1024,
      true, // as the Bun wire client makes it (bun-wire-call.ts)
    );
    let held: ReadResult | undefined = { done: false, value: chunks[0]! };
    const source = {
      read: () => queue.read(),
      ready() {
        const r = held;
        held = undefined;
        return r;
      },
      ...(queue.wait
        ? {
            wait: (...args: unknown[]) => held === undefined && queue.wait!(...args),
          }
        : {}),
      cancel: (reason?: unknown) => queue.cancel(reason),
    };
    let pulled: Promise<void> | undefined;
    relay(source, {
      sse: true,
      tap: new SseAccounting({ kind: "chat", now: () => performance.now(), dropUsageEvent: true }),
      idleTimeoutMs: 60_000,
      onEnd: () => {},
      abortUpstream: () => {},
      direct: (s: { pull(c: object): Promise<void> }) => {
        pulled = s.pull(controller);
        return undefined;
      },
    });
    for (let i = 1; i < chunks.length; i++) {
      await immediate();
      queue.push(chunks[i]!);
    }
    await immediate();
    queue.end();
    await pulled;
  }
  return async (): Promise<number> => {
    const c0 = process.cpuUsage();
    const per = Math.ceil(N / CONC);
    await Promise.all(
      Array.from({ length: CONC }, async () => {
        for (let i = 0; i < per; i++) await one();
      }),
    );
    const c = process.cpuUsage(c0);
    if (writes === 0) throw new Error("nothing written");
    return (c.user + c.system) / N;
  };
}

const apps = { head: await tree(ROOTS.head), base: await tree(ROOTS.base) };
const results = await alternatingRounds(apps, ROUNDS, (run) => run());
console.log(pairedLine(`relay, ${chunks.length} chunks one per macrotask, ${CONC} streams`, results, N));
