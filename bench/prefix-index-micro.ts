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
 * block, and the index's key-table bytes. BENCH_BASELINE (a worktree of an older commit)
 * measures its index beside this one's in the same process, batches alternating, on the
 * same stream of prompts: a before → after in one run.
 */
import { fileURLToPath } from "node:url";

const HERE = fileURLToPath(new URL("..", import.meta.url));
const BASELINE = process.env["BENCH_BASELINE"];
type IndexClass = typeof import("../src/scheduling/prefix/prefix-index.ts").PrefixIndex;
const load = async (tree: string) =>
  ((await import(`${tree}/src/scheduling/prefix/prefix-index.ts`)) as { PrefixIndex: IndexClass })
    .PrefixIndex;
const trees: { name: string; Index: IndexClass }[] = [{ name: "this tree", Index: await load(HERE) }];
if (BASELINE) trees.unshift({ name: "baseline", Index: await load(BASELINE) });
const { DEFAULT_LRU_CAPACITY_PER_SERVER } = await import("../src/scheduling/prefix/prefix-index.ts");

const BLOCKS = 256;
const REQUESTS = Number(process.env["BENCH_REQUESTS"] ?? 400);
const BATCHES = Number(process.env["BENCH_BATCHES"] ?? 7);
const POLLUTE = Number(process.env["BENCH_POLLUTE_KIB"] ?? 1024) * 1024;
const ENDPOINTS = (process.env["BENCH_ENDPOINTS"] ?? "4,64").split(",").map(Number);
const runtime = typeof Bun !== "undefined" ? `Bun ${Bun.version}` : `Node ${process.versions.node}`;

/** xorshift, one state per index measured: the same stream of keys and picks in every tree and runtime. */
class Stream {
  private state = 0x9e3779b9;
  next32(): number {
    this.state ^= this.state << 13;
    this.state ^= this.state >>> 17;
    this.state ^= this.state << 5;
    return this.state >>> 0;
  }

  /** A new prompt's keys: 256 random 53-bit integers, as `hashes.ts` `keyOf` makes them. */
  newPrompt(): number[] {
    const keys = new Array<number>(BLOCKS);
    for (let j = 0; j < BLOCKS; j++) keys[j] = (this.next32() >>> 11) * 4294967296 + this.next32();
    return keys;
  }
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

interface Subject {
  name: string;
  index: InstanceType<IndexClass>;
  stream: Stream;
  decide: number[];
  record: number[];
}

function request(s: Subject, names: readonly string[], t: Times | undefined): void {
  const index = s.index;
  const keys = s.stream.newPrompt();
  const name = names[s.stream.next32() % names.length]!;
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

/** Bytes of the index's key table (its shards' arrays), read from its fields in any tree (`store.keys` since the thirteenth pass). */
function tableBytes(index: object): number {
  type Keys = { shards?: { byteLength: number }[] };
  const i = index as { keys?: Keys; store?: { keys?: Keys } };
  const keys = i.store?.keys ?? i.keys;
  return (keys?.shards ?? []).reduce((a, s) => a + s.byteLength, 0);
}

function measure(n: number): void {
  const names = Array.from({ length: n }, (_, i) => `pod-${i}:8000`);
  const subjects: Subject[] = trees.map(({ name, Index }) => ({
    name,
    index: new Index(),
    stream: new Stream(),
    decide: [],
    record: [],
  }));
  // Fill every LRU, then as many requests again so that entries and free lists are as
  // scrambled as a long-running gateway's.
  const fill = Math.ceil((2.2 * n * DEFAULT_LRU_CAPACITY_PER_SERVER) / BLOCKS);
  for (const s of subjects) for (let k = 0; k < fill; k++) request(s, names, undefined);
  for (let b = 0; b < BATCHES; b++) {
    for (const s of subjects) {
      const t: Times = { decide: 0, record: 0 };
      for (let k = 0; k < REQUESTS; k++) request(s, names, t);
      s.decide.push((t.decide * 1000) / REQUESTS);
      s.record.push((t.record * 1000) / REQUESTS);
    }
  }
  const best = (a: number[]) => Math.min(...a);
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
  const f = (x: number) => x.toFixed(1);
  const totals = subjects.map((s) => s.decide.map((d, i) => d + s.record[i]!));
  subjects.forEach((s, i) => {
    const total = totals[i]!;
    console.log(
      `${runtime} ${n} endpoints, ${s.name} (${s.index.stats().entries} entries, key table ` +
        `${(tableBytes(s.index) / 2 ** 20).toFixed(0)} MiB): per request best (median) µs: ` +
        `decision ${f(best(s.decide))} (${f(median(s.decide))}), record ${f(best(s.record))} (${f(median(s.record))}), ` +
        `total ${f(best(total))} (${f(median(total))}); ${((best(total) * 1000) / BLOCKS).toFixed(0)} ns/block`,
    );
  });
  if (totals.length === 2) {
    const ratios = totals[1]!.map((t, i) => t / totals[0]![i]!);
    console.log(
      `  this tree / baseline, batch by batch: median ${f(median(ratios) * 100)} %, best ${f(best(ratios) * 100)} %`,
    );
  }
}

console.log(`pollute ${POLLUTE / 1024} KiB between requests`);
for (const n of ENDPOINTS) measure(n);
if (junkSum < 0) console.log(junkSum);
