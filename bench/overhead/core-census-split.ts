/**
 * core-census.ts split at the pod call (issue 19, ninth pass): what a small JSON request
 * allocates before the fetch seam is called (dispatch, scope, parse, route, schedule, the
 * pod's headers, attempt up to the call) and after it (attempt's watches, the answer, the
 * scope's end), one request at a time. heapStats() itself allocates: `self` is two calls
 * back to back, subtracted from both parts. Run: `bun bench/overhead/core-census-split.ts`.
 */
import { heapStats } from "bun:jsc";
import { resolve } from "node:path";
import { chatRequest, completionAnswer, gatewayAt } from "../lib/in-process.ts";

const N = Number(process.env["BENCH_N"] ?? 300);
const root = process.env["BENCH_GATEWAY_ROOT"] ?? resolve(import.meta.dirname ?? ".", "../..");
type Counts = Record<string, number>;
let atFetch: Counts | undefined;
let counting = false;
const answers = Array.from({ length: 3000 }, completionAnswer);
let k = 0;
const gw = await gatewayAt(root, {
  // Prebuilt answers: the mock's own Response and Headers are not counted.
  fetch: () => {
    if (counting) atFetch = heapStats().objectTypeCounts;
    return Promise.resolve(answers[k++]!);
  },
});
const request = () =>
  chatRequest(JSON.stringify({ model: "m", messages: [{ role: "user", content: "Hello" }], max_tokens: 16 }));
for (let i = 0; i < 2000; i++) {
  const res = await gw.fetch(request());
  await res.arrayBuffer();
}
const requests = Array.from({ length: N }, request);
const before: Counts = {};
const after: Counts = {};
const self: Counts = {};
const add = (into: Counts, a: Counts, b: Counts) => {
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)]))
    into[key] = (into[key] ?? 0) + (b[key] ?? 0) - (a[key] ?? 0);
};
Bun.gc(true);
for (const r of requests) {
  counting = true;
  const s0 = heapStats().objectTypeCounts;
  const s1 = heapStats().objectTypeCounts;
  add(self, s0, s1);
  const t0 = heapStats().objectTypeCounts;
  const res = await gw.fetch(r);
  if (res.status !== 200) throw new Error(`status ${res.status}`);
  await res.arrayBuffer();
  counting = false;
  const t1 = heapStats().objectTypeCounts;
  add(before, t0, atFetch!);
  add(after, atFetch!, t1);
}
const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])]
  .map(
    (key) =>
      [
        key,
        (before[key] ?? 0) / N - (self[key] ?? 0) / N,
        (after[key] ?? 0) / N - (self[key] ?? 0) / N,
      ] as const,
  )
  .filter(([, b, a]) => Math.abs(b) >= 0.05 || Math.abs(a) >= 0.05)
  .sort((p, q) => q[1] + q[2] - p[1] - p[2]);
console.log(`${"type".padEnd(28)}  before call  after call`);
for (const [key, b, a] of keys)
  console.log(`${key.padEnd(28)} ${b.toFixed(2).padStart(11)} ${a.toFixed(2).padStart(11)}`);
process.exit(0);
