/**
 * The prefix index under prompts it has never seen (the overhead benchmark's body30kv case,
 * in process): each request brings 256 block keys no earlier prompt had, so its record
 * inserts 256 entries and, once the endpoint's LRU is full (31,250), evicts as many. This
 * times what the prefix plugin asks of the index per request, on a full index at 4 and 64
 * endpoints: the decision's reads (`matchLengths`, `prompts.distinctive`) and the record
 * after the pick (`recordLater`, applied by `settle`: insert, evict, prompt statistics).
 *
 *   bun bench/prefix-index-micro.ts            node --import tsx bench/prefix-index-micro.ts
 *
 * Between two requests (not timed) it writes through BENCH_POLLUTE_KIB of memory (1,024),
 * as a gateway's parse, copies and I/O between two decisions push the index out of the
 * caches; 0 runs the index alone. Prints, per endpoint count, the best and median of
 * BENCH_BATCHES (7) batches of BENCH_REQUESTS (400) requests: µs per request and ns per
 * block. BENCH_TREE measures another worktree's index (a before → after in one run).
 */
import { fileURLToPath } from "node:url";

const TREE = process.env["BENCH_TREE"] ?? fileURLToPath(new URL("..", import.meta.url));
const { DEFAULT_LRU_CAPACITY_PER_SERVER, PrefixIndex } = (await import(
  `${TREE}/src/scheduling/prefix/prefix-index.ts`
)) as typeof import("../src/scheduling/prefix/prefix-index.ts");

const BLOCKS = 256;
const REQUESTS = Number(process.env["BENCH_REQUESTS"] ?? 400);
const BATCHES = Number(process.env["BENCH_BATCHES"] ?? 7);
const POLLUTE = Number(process.env["BENCH_POLLUTE_KIB"] ?? 1024) * 1024;
const ENDPOINTS = (process.env["BENCH_ENDPOINTS"] ?? "4,64").split(",").map(Number);
const runtime = typeof Bun !== "undefined" ? `Bun ${Bun.version}` : `Node ${process.versions.node}`;

/** xorshift: the same stream of keys and picks in every tree and runtime. */
let state = 0x9e3779b9;
function next32(): number {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return state >>> 0;
}

/** A new prompt's keys: 256 random 53-bit integers, as `hashes.ts` `keyOf` makes them. */
function newPrompt(): number[] {
  const keys = new Array<number>(BLOCKS);
  for (let j = 0; j < BLOCKS; j++) keys[j] = (next32() >>> 11) * 4294967296 + next32();
  return keys;
}

const junk = new Uint8Array(Math.max(POLLUTE, 64));
let junkSum = 0;
function pollute(): void {
  for (let i = 0; i < POLLUTE; i += 64) junk[i] = (junk[i]! + i) & 255;
  junkSum += junk[POLLUTE >> 1]!;
}

interface Times {
  decide: number;
  record: number;
}

function request(
  index: InstanceType<typeof PrefixIndex>,
  names: readonly string[],
  t: Times | undefined,
): void {
  const keys = newPrompt();
  const name = names[next32() % names.length]!;
  if (POLLUTE > 0) pollute();
  const t0 = performance.now();
  const m = index.matchLengths(keys);
  const d = index.prompts.distinctive(keys);
  index.recordLater(name, keys, DEFAULT_LRU_CAPACITY_PER_SERVER, true);
  const t1 = performance.now();
  index.settle();
  const t2 = performance.now();
  if (m.size + d < 0) throw new Error("unreachable");
  if (t) {
    t.decide += t1 - t0;
    t.record += t2 - t1;
  }
}

function measure(n: number): void {
  const index = new PrefixIndex();
  const names = Array.from({ length: n }, (_, i) => `pod-${i}:8000`);
  // Fill every LRU, then as many requests again so that entries and free lists are as
  // scrambled as a long-running gateway's.
  const fill = Math.ceil((2.2 * n * DEFAULT_LRU_CAPACITY_PER_SERVER) / BLOCKS);
  for (let k = 0; k < fill; k++) request(index, names, undefined);
  const decide: number[] = [];
  const record: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const t: Times = { decide: 0, record: 0 };
    for (let k = 0; k < REQUESTS; k++) request(index, names, t);
    decide.push((t.decide * 1000) / REQUESTS);
    record.push((t.record * 1000) / REQUESTS);
  }
  const best = (a: number[]) => Math.min(...a);
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
  const total = decide.map((d, i) => d + record[i]!);
  const f = (x: number) => x.toFixed(1);
  console.log(
    `${runtime} ${n} endpoints (${index.stats().entries} entries): per request best (median) µs: ` +
      `decision ${f(best(decide))} (${f(median(decide))}), record ${f(best(record))} (${f(median(record))}), ` +
      `total ${f(best(total))} (${f(median(total))}); ${((best(total) * 1000) / BLOCKS).toFixed(0)} ns/block`,
  );
}

console.log(`${TREE}: pollute ${POLLUTE / 1024} KiB between requests`);
for (const n of ENDPOINTS) measure(n);
if (junkSum < 0) console.log(junkSum);
