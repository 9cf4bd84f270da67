/**
 * What a new prompt's record pays for WHERE its keys' slots are, not for the code: the
 * memory floor of the prefix index's warm passes (key-records.ts `hashAndWarm`,
 * `warmHashed`), measured on bare typed arrays shaped like the key table: 8,192 shards of
 * 32-byte slots, each its own Float64Array in a JS array (as `KeyRecords.shards`: a key's
 * read goes array -> typed-array object -> data), BENCH_SHARD_SLOTS (512) slots a shard, a
 * full 64-endpoint index's 128 MiB.
 *
 *   bun bench/prefix-placement-floor.ts        node --import tsx bench/prefix-placement-floor.ts
 *
 * Per batch of KEYS (256) keys, µs (the placement drawn before the clock starts), best and
 * median of ROUNDS (15) rounds, the placements alternating within each round,
 * BENCH_POLLUTE_KIB (1,024) of memory written before each batch:
 * - `random, 3 lines`: each key's home slot in a random shard, its line and the two after
 *   read in one pass (the index today: a key's shard and slot come from its own hash);
 * - `random, 1 line`: the same, one line a key (what fewer lines a key could save);
 * - `one shard`: the 256 keys' slots random within ONE shard (what placing a prompt's keys
 *   by its block 0 would give: one shard, a few pages, for a whole prompt);
 * - `8 shards`: 32 keys a shard (a prompt's keys placed by block 0 and block index / 32);
 * - `one array`: as `random, 3 lines`, the slots in ONE Float64Array of the same size
 *   (no typed-array object a shard: what an arena addressed by offset, not by views, gives);
 * - `dependent`: one line a key, each read's address depending on the one before (a probe
 *   loop that finds its line cold).
 */
import { xorshift32 } from "./lib/xorshift.ts";

const SHARDS = 8192;
const SLOTS = Number(process.env["BENCH_SHARD_SLOTS"] ?? 512); // 16 KiB a shard
const SLOT = 4;
const KEYS = 256;
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 15);
const POLLUTE = Number(process.env["BENCH_POLLUTE_KIB"] ?? 1024) * 1024;
const runtime = typeof Bun !== "undefined" ? `Bun ${Bun.version}` : `Node ${process.versions.node}`;

const shards: Float64Array[] = [];
for (let s = 0; s < SHARDS; s++) {
  const a = new Float64Array(SLOTS * SLOT);
  for (let i = 1; i < a.length; i += SLOT) a[i] = (i * 2654435761) % 7; // touched: no lazy pages
  shards.push(a);
}

/** The same slots as one array (shard s at s * SLOTS * SLOT). */
const flat = new Float64Array(SHARDS * SLOTS * SLOT);
for (let i = 1; i < flat.length; i += SLOT) flat[i] = (i * 2654435761) % 7;

const next32 = xorshift32();

const junk = new Uint8Array(Math.max(POLLUTE, 64));
function pollute(): void {
  for (let i = 0; i < POLLUTE; i += 64) junk[i] = (junk[i]! + i) & 255;
}

const shardOf = new Int32Array(KEYS);
const slotOf = new Int32Array(KEYS);
const mask = SLOTS - 1;
const wrap = SLOTS * SLOT - 1;

/** Picks each key's shard: `perShard` keys share a random shard (1: every key its own). */
function place(perShard: number): void {
  let s = 0;
  for (let j = 0; j < KEYS; j++) {
    if (j % perShard === 0) s = next32() % SHARDS;
    shardOf[j] = s;
    slotOf[j] = (next32() & mask) * SLOT;
  }
}

function warm(lines: number): number {
  let acc = 0;
  for (let j = 0; j < KEYS; j++) {
    const a = shards[shardOf[j]!]!;
    const i = slotOf[j]!;
    acc += a[i + 1]!;
    if (lines > 1) acc += a[(i + 2 * SLOT + 1) & wrap]! + a[(i + 4 * SLOT + 1) & wrap]!;
  }
  return acc;
}

/** `warm(3)` on the one array. */
function warmFlat(): number {
  let acc = 0;
  const shardDoubles = SLOTS * SLOT;
  for (let j = 0; j < KEYS; j++) {
    const base = shardOf[j]! * shardDoubles;
    const i = slotOf[j]!;
    acc +=
      flat[base + i + 1]! +
      flat[base + ((i + 2 * SLOT + 1) & wrap)]! +
      flat[base + ((i + 4 * SLOT + 1) & wrap)]!;
  }
  return acc;
}

/** One line a key, the address of each read depending on the value of the one before (`v * 0`: 0, not foldable). */
function dependent(): number {
  let dep = 0;
  for (let j = 0; j < KEYS; j++) {
    const a = shards[shardOf[j]!]!;
    dep = a[slotOf[j]! + 1 + dep]! * 0;
  }
  return dep;
}

const cases: [string, number, () => number][] = [
  ["random, 3 lines", 1, () => warm(3)],
  ["random, 1 line", 1, () => warm(1)],
  ["one shard, 3 lines", KEYS, () => warm(3)],
  ["8 shards, 3 lines", 32, () => warm(3)],
  ["one array, 3 lines", 1, warmFlat],
  ["dependent, 1 line", 1, dependent],
];
const times = cases.map(() => [] as number[]);
let sink = 0;
for (let r = 0; r < ROUNDS + 3; r++) {
  cases.forEach(([, perShard, run], c) => {
    let total = 0;
    for (let k = 0; k < 50; k++) {
      place(perShard);
      pollute();
      const t0 = performance.now();
      sink += run();
      total += performance.now() - t0;
    }
    if (r >= 3) times[c]!.push((total * 1000) / 50);
  });
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
console.log(
  `${runtime}: ${SHARDS} shards x ${(SLOTS * SLOT * 8) / 1024} KiB, ${KEYS} keys a batch, pollute ${POLLUTE / 1024} KiB`,
);
cases.forEach(([name], c) => {
  const t = times[c]!;
  console.log(
    `  ${name.padEnd(20)} best ${Math.min(...t).toFixed(1)} µs, median ${median(t).toFixed(1)} µs a batch`,
  );
});
if (sink === 0.5) console.log(sink);
