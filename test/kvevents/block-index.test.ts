import { describe, expect, test } from "bun:test";
import { KvBlockIndex } from "../../src/kvevents/block-index.ts";
import type { BlockStored } from "../../src/kvevents/events.ts";
import { FakeTime } from "../helpers/fake-time.ts";

const M = "m";
const tokens = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

function stored(
  hashes: string[],
  parent: string | undefined,
  tokenIds: number[],
  blockSize = 4,
): BlockStored {
  return {
    kind: "BlockStored",
    blockHashes: hashes,
    parentBlockHash: parent,
    tokenIds,
    blockSize,
    loraId: undefined,
    medium: "GPU",
  };
}

function setup(opts: Partial<ConstructorParameters<typeof KvBlockIndex>[0]> = {}) {
  const time = new FakeTime();
  const index = new KvBlockIndex({ clock: time.clock, blockSize: 4, ...opts });
  return { time, index };
}

describe("KvBlockIndex follows the events", () => {
  test("BlockStored chains through parent_block_hash; the request keys of the same tokens match", () => {
    const { index } = setup();
    index.stored("a", M, stored(["e1", "e2"], undefined, tokens(8)));
    index.stored("a", M, stored(["e3"], "e2", tokens(4, 8)));
    const keys = index.requestKeys(M, tokens(14)); // 3 full blocks, a partial one ignored
    expect(keys).toHaveLength(3);
    expect(index.match(keys, ["a", "b"])).toEqual(new Map([["a", 3]]));
    // Another model's keys differ: no match.
    expect(index.match(index.requestKeys("other", tokens(12)), ["a"]).size).toBe(0);
  });

  test("an adapter's blocks (lora_name) are keyed by the adapter, as a request for it is", () => {
    const { index } = setup();
    index.stored("a", M, { ...stored(["e1"], undefined, tokens(4)), loraName: "sql-lora" });
    expect(index.match(index.requestKeys("sql-lora", tokens(4)), ["a"]).get("a")).toBe(1);
    expect(index.match(index.requestKeys(M, tokens(4)), ["a"]).size).toBe(0);
  });

  test("BlockRemoved drops the block by its engine hash; the chain is matched only up to it", () => {
    const { index } = setup();
    index.stored("a", M, stored(["e1", "e2", "e3"], undefined, tokens(12)));
    index.removed("a", ["e2"]);
    expect(index.match(index.requestKeys(M, tokens(12)), ["a"]).get("a")).toBe(1);
    expect(index.stats.removed).toBe(1);
  });

  test("AllBlocksCleared forgets the pod and only that pod", () => {
    const { index } = setup();
    index.stored("a", M, stored(["e1"], undefined, tokens(4)));
    index.stored("b", M, stored(["x1"], undefined, tokens(4)));
    index.cleared("a");
    expect(index.match(index.requestKeys(M, tokens(4)), ["a", "b"])).toEqual(new Map([["b", 1]]));
  });

  test("a BlockStored whose parent was never reported is skipped (orphan), one of another block size too", () => {
    const { index } = setup();
    index.stored("a", M, stored(["e9"], "unknown", tokens(4)));
    index.stored("a", M, stored(["e1"], undefined, tokens(16), 16));
    expect(index.stats).toMatchObject({ orphaned: 1, blockSizeMismatch: 1, stored: 0 });
    expect(index.size()).toBe(0);
  });

  test("each pod keeps at most maxBlocksPerPod keys, least recently stored out first", () => {
    const { index } = setup({ maxBlocksPerPod: 2 });
    index.stored("a", M, stored(["e1", "e2", "e3"], undefined, tokens(12)));
    expect(index.size("a")).toBe(2);
    // The oldest (first) block went: no leading match at all.
    expect(index.match(index.requestKeys(M, tokens(12)), ["a"]).size).toBe(0);
    index.removed("a", ["e1"]); // gone already: nothing to do, no throw
  });

  test("podCacheSize bounds the pods per key", () => {
    const { index } = setup({ maxPodsPerKey: 2 });
    for (const p of ["a", "b", "c"]) index.stored(p, M, stored([`${p}1`], undefined, tokens(4)));
    expect(index.match(index.requestKeys(M, tokens(4)), ["a", "b", "c"]).size).toBe(2);
    expect(index.stats.dropped).toBe(1);
  });
});

describe("speculative entries", () => {
  test("expire after the TTL unless an event confirms them", () => {
    const { time, index } = setup({ speculativeTtlMs: 2000 });
    const keys = index.requestKeys(M, tokens(8));
    index.speculate("a", keys);
    index.speculate("b", keys);
    expect(index.match(keys, ["a", "b"])).toEqual(
      new Map([
        ["a", 2],
        ["b", 2],
      ]),
    );
    time.advance(1000);
    index.stored("a", M, stored(["e1", "e2"], undefined, tokens(8))); // a's events arrive
    time.advance(1000);
    expect(index.match(keys, ["a", "b"])).toEqual(new Map([["a", 2]]));
    expect(index.stats.expired).toBe(2);
    time.advance(60_000);
    expect(index.match(keys, ["a"]).get("a")).toBe(2); // confirmed: no expiry
  });

  test("a key the pod already holds is not made speculative again", () => {
    const { time, index } = setup({ speculativeTtlMs: 100 });
    index.stored("a", M, stored(["e1"], undefined, tokens(4)));
    index.speculate("a", index.requestKeys(M, tokens(4)));
    time.advance(500);
    expect(index.match(index.requestKeys(M, tokens(4)), ["a"]).get("a")).toBe(1);
    expect(index.stats.speculative).toBe(0);
  });
});
