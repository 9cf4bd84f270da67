/**
 * The prefix index's key table alone (key-records.ts), two trees side by side in one process
 * (issue 19, seventeenth pass: the deferred weight adds moved into deferred-weights.ts; every
 * slot-placing or slot-moving call checks for pending adds first). Two loops, batches
 * alternating between the trees, the same keys in both:
 *
 * - churn: a full table's record of a new prompt, 256 keys at a time: each new key found and
 *   added where the probe ended (`findHashed`, `addAt`), and as many old keys removed
 *   (`setHeadHashed(key, h, -1)`, a backward shift), as `HolderStore.record` and its evictions
 *   do. BENCH_KEYS keys held (default 8,000: the table fits the caches and what is timed is
 *   the calls' work; 125,000 is a full 4-endpoint index).
 * - repeat: a repeated prompt's 256 weights: placed once (`locate`), then BENCH_DEFER adds
 *   deferred (`deferWeightsAt`, default 8) and read back (`firstBelowAt`, which applies them).
 *
 *   npx bun bench/overhead/records-micro.ts <tree A> <tree B>
 *   node --import tsx bench/overhead/records-micro.ts <tree A> <tree B>
 *
 * BENCH_BATCHES (default 31), BENCH_N churn rounds of 256 keys a batch (default 200),
 * BENCH_REPEAT_N repeat rounds a batch (default 4,000), BENCH_ONLY (churn or repeat). Prints ns a
 * key (churn: one add and one removal) or a round (repeat), best and median of the batches,
 * and the median of the batch-by-batch ratios B / A. Runs scatter ±5-10 % on the shared VM:
 * the churn did not show the 2-3 % that reading the pending count through the deferred adds'
 * object cost a new prompt's record in bench/overhead/index-capacity.ts (so the table keeps it).
 */
import { resolve } from "node:path";
import { xorshift32 } from "../lib/xorshift.ts";

const roots = process.argv.slice(2).map((r) => resolve(r));
if (roots.length !== 2) throw new Error("usage: records-micro.ts <tree A> <tree B>");
const BATCHES = Number(process.env["BENCH_BATCHES"] ?? 31);
const N = Number(process.env["BENCH_N"] ?? 200);
const REPEAT_N = Number(process.env["BENCH_REPEAT_N"] ?? 4000);
const KEYS = Number(process.env["BENCH_KEYS"] ?? 8000);
const DEFER = Number(process.env["BENCH_DEFER"] ?? 8);
const BLOCK = 256;
const runtime = typeof Bun !== "undefined" ? `Bun ${Bun.version}` : `Node ${process.versions.node}`;

interface Table {
  findHashed(key: number, h: number): number;
  addAt(key: number, entry: number, absent: number, hash?: number): number;
  setHeadHashed(key: number, h: number, entry: number): void;
  locate(keys: readonly number[], shardAt: Int32Array, slotAt: Int32Array): void;
  addWeightsAt(shardAt: Int32Array, slotAt: Int32Array, n: number, w: number): number;
  deferWeightsAt(shardAt: Int32Array, slotAt: Int32Array, n: number, w: number): void;
  firstBelowAt(shardAt: Int32Array, slotAt: Int32Array, n: number, bar: number): number;
}
interface Tree {
  root: string;
  churn: () => number;
  repeat: () => number;
  ns: { churn: number[]; repeat: number[] };
}

/** A key of 52 random bits, as the index's block keys. */
const keyOf = (next: () => number) => (next() & 0xfffff) * 2 ** 32 + next();

async function load(root: string): Promise<Tree> {
  const mod = await import(`${root}/src/scheduling/prefix/key-records.ts`);
  const keyHash = mod.keyHash as (key: number) => number;
  const table = new mod.KeyRecords() as Table;
  const next = xorshift32();
  // Held keys in a ring, oldest first; each churn round adds BLOCK and removes BLOCK.
  const ring: number[] = [];
  const hashes: number[] = [];
  for (let i = 0; i < KEYS; i++) {
    const k = keyOf(next);
    const h = keyHash(k);
    table.addAt(k, 0, table.findHashed(k, h), h);
    ring.push(k);
    hashes.push(h);
  }
  let oldest = 0;
  const prompt = Array.from({ length: BLOCK }, (_, j) => ring[j * 7]!);
  const shardAt = new Int32Array(BLOCK);
  const slotAt = new Int32Array(BLOCK);
  return {
    root,
    ns: { churn: [], repeat: [] },
    churn() {
      let acc = 0;
      for (let j = 0; j < BLOCK; j++) {
        const k = keyOf(next);
        const h = keyHash(k);
        const at = table.findHashed(k, h);
        acc += table.addAt(k, 1, at, h);
        const o = oldest++ % KEYS;
        table.setHeadHashed(ring[o]!, hashes[o]!, -1);
        ring[o] = k;
        hashes[o] = h;
      }
      return acc;
    },
    repeat() {
      table.locate(prompt, shardAt, slotAt);
      table.addWeightsAt(shardAt, slotAt, BLOCK, 1);
      for (let c = 0; c < DEFER; c++) table.deferWeightsAt(shardAt, slotAt, BLOCK, 0.5);
      return table.firstBelowAt(shardAt, slotAt, BLOCK, 2);
    },
  };
}

const trees: Tree[] = [];
for (const r of roots) trees.push(await load(r));
let sink = 0;
const kinds = (["churn", "repeat"] as const).filter((k) => (process.env["BENCH_ONLY"] ?? k) === k);
for (const kind of kinds)
  for (let b = 0; b < BATCHES; b++)
    for (const t of b % 2 ? [...trees].reverse() : trees) {
      const t0 = performance.now();
      const rounds = kind === "churn" ? N : REPEAT_N;
      for (let i = 0; i < rounds; i++) sink += t[kind]();
      const per = kind === "churn" ? N * BLOCK : REPEAT_N;
      t.ns[kind].push(((performance.now() - t0) * 1e6) / per);
    }

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
console.log(`${runtime}, ${KEYS} keys held, ${BATCHES} batches (sink ${sink % 7})`);
for (const kind of kinds) {
  const [a, b] = trees as [Tree, Tree];
  // The first batch of each kind compiles: left out.
  const ratios = a.ns[kind].slice(1).map((x, i) => b.ns[kind][i + 1]! / x);
  for (const t of trees)
    console.log(
      `  ${kind} ${t.root}: best ${Math.min(...t.ns[kind]).toFixed(1)} ns, median ${median(t.ns[kind]).toFixed(1)} ns`,
    );
  const lower = ratios.filter((r) => r < 1).length;
  console.log(
    `  ${kind} B/A batch by batch: median ${median(ratios).toFixed(3)}, B lower in ${lower}/${ratios.length}`,
  );
}
