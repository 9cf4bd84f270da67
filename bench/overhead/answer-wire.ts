/**
 * The Bun wire client's whole call, answer side included, two trees side by side in one
 * process (issue 19, thirteenth pass): each tree's entry client (`bunUpstreamFetch`: the
 * decoding as that tree does it) with a stub pool that runs the call on the tree's own `Conn`
 * (a stub socket that takes every write), feeds it the pod's JSON answer as one fresh data
 * callback (upstream.ts's answer as Bun.serve frames it), and then, on the settled Response,
 * what respond does with the answer's head and body: `answerHeaders` with the HOP_NAMES the
 * tree offers, the three `set`s and the whole bytes. No socket, no gateway: ns a call,
 * ANSWER_ROUNDS (21) alternating rounds A B / B A of ANSWER_N (50,000) calls, 8 at a time;
 * medians, the median paired difference and in how many rounds the first tree was lower.
 *
 *   npx bun bench/overhead/answer-wire.ts
 * ANSWER_HEAD (default this checkout) and ANSWER_BASE (default /tmp/base13) name the trees.
 */
import { resolve } from "node:path";
import { wireAnswer } from "./bodies.ts";

const env = process.env;
const N = Number(env["ANSWER_N"] ?? 50_000);
const ROUNDS = Number(env["ANSWER_ROUNDS"] ?? 21);
const CONC = 8;
const ROOTS = {
  head: env["ANSWER_HEAD"] ?? resolve(import.meta.dir, "../.."),
  base: env["ANSWER_BASE"] ?? "/tmp/base13",
};
const ANSWER = wireAnswer();
const BODY = new TextEncoder().encode('{"model":"m","messages":[{"role":"user","content":"Hello"}]}');
const HOP_NAMES = Symbol.for("inference-gateway.hopByHopNames");
const WHOLE_BYTES = Symbol.for("inference-gateway.wholeBytes");
let sink = 0;
type Fetch = (url: string, init: RequestInit) => Promise<Response>;

async function side(root: string): Promise<() => Promise<void>> {
  const { bunUpstreamFetch } = await import(resolve(root, "src/runtime/bun-wire.ts"));
  const { Conn } = await import(resolve(root, "src/runtime/bun-wire-conn.ts"));
  const { answerHeaders } = await import(resolve(root, "src/proxy/headers.ts"));
  const { LightAbortController } = await import(resolve(root, "src/runtime/node-abort.ts"));
  // The entry's client; a tree whose entry wraps the wire client (base13: decodingWhenEncoded
  // around it) is built the same way here, to reach the wire client's pools.
  let fetch = bunUpstreamFetch({}) as Fetch & { pools?: Map<string, unknown> };
  let pools = fetch.pools;
  if (!pools) {
    const { wireFetch } = await import(resolve(root, "src/runtime/bun-wire.ts"));
    const { decodingWhenEncoded } = await import(resolve(root, "src/runtime/undici-fetch.ts"));
    const wire = wireFetch();
    fetch = decodingWhenEncoded(wire);
    pools = wire.pools as Map<string, unknown>;
  }
  const idle: InstanceType<typeof Conn>[] = [];
  const pool = {
    origin: "127.0.0.1:8000",
    paused: 0,
    dispatch(call: { bytes: Uint8Array }) {
      const conn = idle.pop() ?? new Conn(pool);
      conn.socket = { write: (b: Uint8Array) => b.byteLength, ref() {}, unref() {} };
      conn.start(call);
      // The pod answers on a later turn, as a socket's data callback.
      queueMicrotask(() => conn.onData(Buffer.from(ANSWER)));
    },
    release(conn: InstanceType<typeof Conn>) {
      conn.reused = true;
      idle.push(conn);
    },
    gone() {},
  };
  pools.set("127.0.0.1:8000", pool);
  const editable = { ok: true };
  const one = async () => {
    const controller = new LightAbortController();
    const res = await fetch("http://127.0.0.1:8000/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: BODY,
      signal: controller.signal,
    });
    const out = answerHeaders(res.headers, editable, (res as unknown as Record<symbol, string[]>)[HOP_NAMES]);
    out.set("x-gateway-target-model", "m");
    out.set("x-gateway-destination-endpoint-served", "127.0.0.1:8000");
    out.set("x-request-id", "0191b2c3-d4e5-7f00-8a9b-0123456789ab");
    const bytes = (res as unknown as Record<symbol, () => Uint8Array>)[WHOLE_BYTES]!();
    sink += bytes.byteLength;
  };
  return async () => {
    let left = N;
    const worker = async () => {
      while (left-- > 0) await one();
    };
    await Promise.all(Array.from({ length: CONC }, worker));
  };
}

const runs = { head: await side(ROOTS.head), base: await side(ROOTS.base) };
const time = async (f: () => Promise<void>) => {
  const t0 = Bun.nanoseconds();
  await f();
  return (Bun.nanoseconds() - t0) / N;
};
for (const f of Object.values(runs)) await time(f);
const results: Record<string, number[]> = { head: [], base: [] };
for (let round = 0; round < ROUNDS; round++) {
  const order = Object.entries(runs);
  if (round % 2 === 1) order.reverse();
  for (const [name, f] of order) results[name]!.push(await time(f));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const diffs = results["head"]!.map((h, i) => h - results["base"]![i]!);
console.log(
  `wire call + answer, ${ROUNDS} rounds of ${N} (${CONC} at a time): head ${median(results["head"]!).toFixed(0)} ns, base ${median(results["base"]!).toFixed(0)} ns, ` +
    `median paired diff ${median(diffs).toFixed(0)} (head lower in ${diffs.filter((d) => d < 0).length}/${ROUNDS}; sink ${sink > 0})`,
);
