import { describe, expect, test } from "bun:test";
import { seededRandom } from "../../src/clock.ts";
import { KeyRecords } from "../../src/scheduling/prefix/key-records.ts";
import { ShardArena } from "../../src/scheduling/prefix/shard-arena.ts";

describe("ShardArena (the key table's shards as views of a few buffers)", () => {
  test("a block is zeroed when handed out, also when it was used before", () => {
    const arena = new ShardArena();
    const a = arena.alloc(64);
    a.fill(7);
    arena.release(a);
    const b = arena.alloc(64);
    expect(b.length).toBe(64);
    expect(b.every((x) => x === 0)).toBe(true);
  });

  test("live blocks never overlap, through random allocs and releases", () => {
    const arena = new ShardArena();
    const random = seededRandom(19);
    const live: { view: Float64Array<ArrayBuffer>; id: number }[] = [];
    for (let step = 0; step < 20_000; step++) {
      if (live.length > 0 && random() < 0.45) {
        const i = Math.floor(random() * live.length);
        const { view, id } = live[i]!;
        expect(view.every((x) => x === id)).toBe(true);
        arena.release(view);
        live[i] = live[live.length - 1]!;
        live.pop();
      } else {
        const view = arena.alloc(2 ** (3 + Math.floor(random() * 10)));
        view.fill(step + 1);
        live.push({ view, id: step + 1 });
      }
    }
    for (const { view, id } of live) expect(view.every((x) => x === id)).toBe(true);
  });

  test("freed buddies merge: everything given back makes room for the largest blocks again", () => {
    const arena = new ShardArena();
    const small = Array.from({ length: 4096 }, () => arena.alloc(32));
    const bytes = arena.bytes;
    for (const v of small) arena.release(v);
    expect(arena.liveBytes).toBe(0);
    // 1 MiB of 64 KiB blocks fits in what the small ones were carved from.
    const big = Array.from({ length: 16 }, () => arena.alloc(8192));
    expect(arena.bytes).toBe(bytes);
    expect(arena.liveBytes).toBe(16 * 8192 * 8);
    expect(big.length).toBe(16);
  });

  test("shards doubling one at a time keep the buffers within twice what they hold", () => {
    const arena = new ShardArena();
    const random = seededRandom(5);
    const shards = Array.from({ length: 2048 }, () => arena.alloc(16));
    // Grow random shards up to 1,024 doubles each, as a filling key table does.
    for (let step = 0; step < 2048 * 6; step++) {
      const s = Math.floor(random() * shards.length);
      const old = shards[s]!;
      if (old.length >= 1024) continue;
      shards[s] = arena.alloc(old.length * 2);
      arena.release(old);
    }
    expect(arena.bytes).toBeLessThanOrEqual(2 * arena.liveBytes + 8 * 2 ** 17);
  });
});

describe("KeyRecords on the arena", () => {
  test("a table of 100k keys lives in a few dozen ArrayBuffers, not one per shard", () => {
    const table = new KeyRecords();
    for (let k = 1; k <= 100_000; k++) table.add(k * 7919, k);
    // Without the arena each of the 8,192 shards that took a key had a buffer of its own.
    expect(table.buffers).toBeLessThan(64);
    for (let k = 1; k <= 100_000; k++) expect(table.head(k * 7919)).toBe(k);
  });
});

describe("ShardArena sizes", () => {
  test("a size that is not a power of two is refused (a block's size is its buddy's)", () => {
    const arena = new ShardArena();
    expect(() => arena.alloc(24)).toThrow(RangeError);
    expect(arena.alloc(2 ** 18).length).toBe(2 ** 18); // larger than a buffer: its own array
  });
});
