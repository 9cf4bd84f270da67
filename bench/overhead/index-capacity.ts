/**
 * How much of a new prompt's record is memory and how much is work (issue 19, sixteenth
 * pass): the same stream of new 256-block prompts recorded into two indexes of this tree
 * in one process, batches alternating, one whose endpoints' LRUs hold BENCH_SMALL_CAPACITY
 * (1,024) blocks each (its key table, entries and columns fit the CPU's caches: what is left
 * is the record's own work) and one at the default 31,250 (the overhead benchmark's
 * body30kv: a key table of ~15 MiB at 4 endpoints). Both indexes are full (every record
 * evicts as many blocks as it adds) and warmed past their shards' doublings before timing.
 * As bench/prefix-index-micro.ts, BENCH_POLLUTE_KIB (1,024) of memory is written between
 * requests.
 *
 *   bun bench/overhead/index-capacity.ts        node --import tsx bench/overhead/index-capacity.ts
 *
 * Knobs: BENCH_ENDPOINTS (4), BENCH_BATCHES (11), BENCH_REQUESTS (400), BENCH_SMALL_CAPACITY.
 * Prints per capacity the best and median µs a request (match, distinctive block, record)
 * and the median of the batch-by-batch ratios small / full.
 */
import { DEFAULT_LRU_CAPACITY_PER_SERVER, PrefixIndex } from "../../src/scheduling/prefix/prefix-index.ts";
import { xorshift32 } from "../lib/xorshift.ts";

const BLOCKS = 256;
const ENDPOINTS = Number(process.env["BENCH_ENDPOINTS"] ?? 4);
const BATCHES = Number(process.env["BENCH_BATCHES"] ?? 11);
const REQUESTS = Number(process.env["BENCH_REQUESTS"] ?? 400);
const SMALL = Number(process.env["BENCH_SMALL_CAPACITY"] ?? 1024);
const POLLUTE = Number(process.env["BENCH_POLLUTE_KIB"] ?? 1024) * 1024;
const runtime = typeof Bun !== "undefined" ? `Bun ${Bun.version}` : `Node ${process.versions.node}`;

const next32 = xorshift32();

/** A new prompt's keys: 256 random 53-bit integers, as hashes.ts `keyOf` makes them. */
function newPrompt(): number[] {
  const keys = new Array<number>(BLOCKS);
  for (let j = 0; j < BLOCKS; j++) keys[j] = (next32() >>> 11) * 4294967296 + next32();
  return keys;
}

const junk = new Uint8Array(Math.max(POLLUTE, 64));
function pollute(): void {
  for (let i = 0; i < POLLUTE; i += 64) junk[i] = (junk[i]! + i) & 255;
}

const names = Array.from({ length: ENDPOINTS }, (_, i) => `pod-${i}:8000`);

/** One request's prefix work on `index`; returns its µs. */
function request(index: PrefixIndex, capacity: number): number {
  const keys = newPrompt();
  const name = names[next32() % names.length]!;
  if (POLLUTE > 0) pollute();
  const t0 = performance.now();
  const m = index.matchLengths(keys);
  const d = index.prompts.distinctive(keys);
  index.recordLater(name, keys, capacity, true);
  index.settle();
  const t = performance.now() - t0;
  if (m.size + d < 0) throw new Error("unreachable");
  return t * 1000;
}

const subjects = [
  { name: `capacity ${SMALL}`, capacity: SMALL, index: new PrefixIndex(), us: [] as number[] },
  {
    name: `capacity ${DEFAULT_LRU_CAPACITY_PER_SERVER}`,
    capacity: DEFAULT_LRU_CAPACITY_PER_SERVER,
    index: new PrefixIndex(),
    us: [] as number[],
  },
];
// Full, then four fills more: the shards' doublings (which a long-running gateway has behind
// it) are over before timing.
for (const s of subjects) {
  const fill = Math.ceil((5 * ENDPOINTS * s.capacity) / BLOCKS) + 2000;
  for (let k = 0; k < fill; k++) request(s.index, s.capacity);
}
for (let b = 0; b < BATCHES; b++)
  for (const s of subjects) {
    let sum = 0;
    for (let k = 0; k < REQUESTS; k++) sum += request(s.index, s.capacity);
    s.us.push(sum / REQUESTS);
  }

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
console.log(`${runtime}, ${ENDPOINTS} endpoints, new 256-block prompts, pollute ${POLLUTE >> 10} KiB`);
for (const s of subjects)
  console.log(
    `  ${s.name}: best ${Math.min(...s.us).toFixed(1)} median ${median(s.us).toFixed(1)} µs a request`,
  );
const ratios = subjects[0]!.us.map((x, i) => x / subjects[1]!.us[i]!);
console.log(`  small / full, batch by batch: median ${(100 * median(ratios)).toFixed(1)} %`);
