/**
 * What the per-request natives left on the small JSON path cost inside a live Bun.serve
 * handler (issue 19, sixth pass): the client's `request.signal`, an 'abort' listener on it
 * (attempt's), the request id (`crypto.randomUUID()` against a UUID-shaped per-process
 * prefix and counter) and a timer armed and cleared (attempt's, the body read's).
 *
 * A loop measures these warm and alone; a handler between two requests runs them with cold
 * caches, which is what a request pays. Each case runs in its own batches of requests on one
 * loopback server (Bun's fetch as the client, BENCH_CONCURRENCY at a time, default 32),
 * round-robin over BENCH_ROUNDS rounds (default 6), and only the handler's own span is
 * timed (the clock's ~40 ns read is the "none" row: subtract it).
 *
 *   node_modules/.bin/bun bench/overhead/native-micro.ts
 */
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 6);
const PER_BATCH = Number(process.env["BENCH_N"] ?? 3000);
const CONCURRENCY = Number(process.env["BENCH_CONCURRENCY"] ?? 32);

const noop = () => {};
/** The counter id tried: 24 random hex characters of a UUID v4, then a 48-bit counter in hex. */
const PREFIX = crypto.randomUUID().slice(0, 24);
const HEX3 = Array.from({ length: 4096 }, (_, i) => (i + 4096).toString(16).slice(1));
let lo = 0;
let hi = 0;
function counterId(): string {
  if (++lo === 0x1000000) {
    lo = 0;
    hi = (hi + 1) & 0xffffff;
  }
  return PREFIX + HEX3[hi >>> 12] + HEX3[hi & 4095] + HEX3[lo >>> 12] + HEX3[lo & 4095];
}

let sink = 0;
const cases: [string, (req: Request) => void][] = [
  ["none (the clock's two reads)", () => {}],
  ["request.signal", (req) => void req.signal],
  ["request.signal + 'abort' listener added", (req) => req.signal.addEventListener("abort", () => noop())],
  [
    "request.signal + listener added and removed",
    (req) => {
      const s = req.signal;
      const f = () => noop();
      s.addEventListener("abort", f);
      s.removeEventListener("abort", f);
    },
  ],
  [
    "crypto.randomUUID()",
    () => {
      sink += crypto.randomUUID().charCodeAt(35);
    },
  ],
  [
    "prefix + counter id",
    () => {
      sink += counterId().charCodeAt(35);
    },
  ],
  [
    "setTimeout(30 s) + clearTimeout",
    () => {
      const t = setTimeout(() => noop(), 30_000);
      clearTimeout(t);
    },
  ],
];

let current = 0;
const spent = cases.map(() => 0);
const count = cases.map(() => 0);
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch(req) {
    const i = current;
    const t0 = performance.now();
    cases[i]![1](req);
    spent[i]! += performance.now() - t0;
    count[i]!++;
    return new Response("ok");
  },
});
const url = `http://127.0.0.1:${server.port}/`;

async function batch(n: number): Promise<void> {
  let left = n;
  const client = async () => {
    while (left-- > 0) await (await fetch(url)).text();
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
}

for (let r = 0; r < ROUNDS; r++)
  for (let i = 0; i < cases.length; i++) {
    current = i;
    await batch(PER_BATCH);
  }
server.stop(true);
console.log(`Bun ${Bun.version}, ${CONCURRENCY} at a time, µs a request inside the handler:`);
for (let i = 0; i < cases.length; i++)
  console.log(`  ${((spent[i]! / count[i]!) * 1000).toFixed(2).padStart(6)}  ${cases[i]![0]}`);
if (sink === 0.5) console.log(sink);

export {};
