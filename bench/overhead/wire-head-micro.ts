/**
 * The answer head's part of the Bun wire client's answer path, two trees in one process
 * (issue 19, eleventh pass): a fresh copy of a pod's JSON answer (head and body, as Bun's
 * socket hands it over) fed to the tree's `ResponseParser` into its `WireCall`, then the
 * tree's `answerHeaders` on the settled Response's headers, as respond.ts calls it (with the
 * Response's HOP_NAMES where the tree has them). ns per answer, WIRE_ROUNDS (15) alternating
 * rounds of WIRE_N (100,000); medians and the median paired difference.
 *
 *   npx bun bench/overhead/wire-head-micro.ts    (WIRE_HEAD, WIRE_BASE: the two trees)
 */
import { resolve } from "node:path";

const env = process.env;
const N = Number(env["WIRE_N"] ?? 100_000);
const ROUNDS = Number(env["WIRE_ROUNDS"] ?? 15);
const ROOTS = {
  head: env["WIRE_HEAD"] ?? resolve(import.meta.dir, "../.."),
  base: env["WIRE_BASE"] ?? "/tmp/base11",
};
const BODY = '{"id":"chatcmpl-bench","object":"chat.completion","choices":[]}';
const ANSWER = Buffer.from(
  "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nDate: Sun, 06 Dec 2026 07:00:00 GMT\r\n" +
    `Content-Length: ${BODY.length}\r\n\r\n${BODY}`,
  "latin1",
);
const HOP_NAMES = Symbol.for("inference-gateway.hopByHopNames");

async function path(root: string): Promise<() => void> {
  const { ResponseParser } = await import(resolve(root, "src/runtime/http1-parse.ts"));
  const { WireCall } = await import(resolve(root, "src/runtime/bun-wire-call.ts"));
  const { answerHeaders } = await import(resolve(root, "src/proxy/headers.ts"));
  let call: InstanceType<typeof WireCall> | undefined;
  let got: Response | undefined;
  const parser = new ResponseParser({
    head: (h: unknown) => call!.head(h),
    body: (c: Uint8Array) => call!.body(c),
  });
  const editable = { ok: true };
  const keep = (r: Response) => {
    got = r;
  };
  return () => {
    call = new WireCall(ANSWER, false, undefined, keep, () => {});
    parser.reset(false);
    if (parser.feed(Buffer.from(ANSWER))) call.end();
    const res = got!;
    answerHeaders(res.headers, editable, (res as unknown as Record<symbol, unknown>)[HOP_NAMES]);
  };
}

const runs = { head: await path(ROOTS.head), base: await path(ROOTS.base) };
const time = (f: () => void) => {
  const t0 = Bun.nanoseconds();
  for (let i = 0; i < N; i++) f();
  return (Bun.nanoseconds() - t0) / N;
};
for (const f of Object.values(runs)) time(f);
const results: Record<string, number[]> = { head: [], base: [] };
for (let round = 0; round < ROUNDS; round++) {
  const order = Object.entries(runs);
  if (round % 2 === 1) order.reverse();
  for (const [name, f] of order) results[name]!.push(time(f));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const diffs = results["head"]!.map((h, i) => h - results["base"]![i]!);
console.log(
  `answer head, ${ROUNDS} rounds of ${N}: head ${median(results["head"]!).toFixed(0)} ns, base ${median(results["base"]!).toFixed(0)} ns, ` +
    `median paired diff ${median(diffs).toFixed(0)} (head lower in ${diffs.filter((d) => d < 0).length}/${ROUNDS})`,
);
