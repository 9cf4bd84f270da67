import { describe, expect, test } from "bun:test";
import {
  decodeKvEventBatch,
  encodeKvEventBatch,
  KvEventError,
  parseTopic,
} from "../../src/kvevents/events.ts";

/**
 * msgpack bytes written out by hand as msgspec encodes vLLM's KVEventBatch (array_like,
 * tagged events): no encoder of ours is involved in building them.
 */
function msgspecBatch(): Uint8Array {
  const b: number[] = [];
  const str = (s: string) => b.push(0xa0 | s.length, ...new TextEncoder().encode(s));
  const u64 = (n: bigint) => {
    b.push(0xcf);
    for (let i = 7; i >= 0; i--) b.push(Number((n >> BigInt(i * 8)) & 0xffn));
  };
  b.push(0x93); // [ts, events, dp_rank]
  b.push(0xcb, ...new Uint8Array(new Float64Array([1733390000.25]).buffer).reverse()); // float64 ts
  b.push(0x93); // three events
  // ["BlockStored", [h1, h2], nil, [tokens x4], 2, nil, "GPU", nil]
  b.push(0x98);
  str("BlockStored");
  b.push(0x92);
  u64(0xfedcba9876543210n);
  u64(0x0123456789abcdefn);
  b.push(0xc0);
  b.push(0x94, 0x01, 0x7f, 0xcd, 0x12, 0x34, 0xce, 0x00, 0x01, 0x86, 0xa0); // 1, 127, 4660, 100000
  b.push(0x02, 0xc0);
  str("GPU");
  b.push(0xc0);
  // ["BlockRemoved", [h2], "GPU"]
  b.push(0x93);
  str("BlockRemoved");
  b.push(0x91);
  u64(0x0123456789abcdefn);
  str("GPU");
  // ["AllBlocksCleared"]
  b.push(0x91);
  str("AllBlocksCleared");
  b.push(0x00); // data_parallel_rank 0
  return Uint8Array.from(b);
}

describe("KVEventBatch decoding", () => {
  test("decodes the bytes msgspec writes for vLLM's array_like batch", () => {
    const batch = decodeKvEventBatch(msgspecBatch());
    expect(batch.ts).toBe(1733390000.25);
    expect(batch.dataParallelRank).toBe(0);
    expect(batch.events).toEqual([
      {
        kind: "BlockStored",
        blockHashes: [0xfedcba9876543210n.toString(), 0x0123456789abcdefn.toString()],
        parentBlockHash: undefined,
        tokenIds: [1, 127, 4660, 100000],
        blockSize: 2,
        loraId: undefined,
        medium: "GPU",
      },
      { kind: "BlockRemoved", blockHashes: [0x0123456789abcdefn.toString()], medium: "GPU" },
      { kind: "AllBlocksCleared" },
    ]);
  });

  test("decodes the map encoding too (structs as maps, events tagged by type), and bytes hashes", async () => {
    const { encode } = await import("@msgpack/msgpack");
    const payload = encode({
      ts: 5,
      events: [
        {
          type: "BlockStored",
          block_hashes: [Uint8Array.of(0xab, 0x01)],
          parent_block_hash: 7,
          token_ids: [1, 2],
          block_size: 2,
          lora_id: null,
          medium: null,
        },
      ],
    });
    const batch = decodeKvEventBatch(payload);
    expect(batch.events[0]).toMatchObject({
      kind: "BlockStored",
      blockHashes: ["0xab01"],
      parentBlockHash: "7",
    });
  });

  test("our encoder (used by the simulator) round-trips", () => {
    const batch = {
      ts: 1.5,
      dataParallelRank: 0,
      events: [
        {
          kind: "BlockStored" as const,
          blockHashes: ["9007199254740991", "18446744073709551615"],
          parentBlockHash: "3",
          tokenIds: [5, 6, 7, 8],
          blockSize: 2,
          loraId: undefined,
          medium: "GPU",
        },
      ],
    };
    expect(decodeKvEventBatch(encodeKvEventBatch(batch))).toEqual(batch);
    const lora = { ...batch, events: [{ ...batch.events[0]!, loraName: "sql-lora" }] };
    expect(decodeKvEventBatch(encodeKvEventBatch(lora))).toEqual(lora);
  });

  test.each([
    ["not msgpack", Uint8Array.of(0xc1)],
    ["a bare number", Uint8Array.of(0x05)],
    ["events not a list", Uint8Array.of(0x93, 0x01, 0x02, 0x00)],
    ["an unknown event", Uint8Array.of(0x93, 0x01, 0x91, 0x91, 0xa3, 0x66, 0x6f, 0x6f, 0x00)],
    [
      "BlockStored without fields",
      Uint8Array.of(0x93, 0x01, 0x91, 0x91, 0xab, ...new TextEncoder().encode("BlockStored"), 0x00),
    ],
    ["truncated", msgspecBatch().subarray(0, 40)],
  ])("%s is a KvEventError, never another throw", (_, bytes) => {
    expect(() => decodeKvEventBatch(bytes)).toThrow(KvEventError);
  });

  test("topics are kv@<pod>@<model>; the model may contain @ and /", () => {
    expect(parseTopic("kv@10.0.0.5@meta-llama/Llama-3.1-8B")).toEqual({
      pod: "10.0.0.5",
      model: "meta-llama/Llama-3.1-8B",
    });
    expect(parseTopic("kv@127.0.0.1:8001@a@b")).toEqual({ pod: "127.0.0.1:8001", model: "a@b" });
    expect(parseTopic("kv@pod")).toBeUndefined();
    expect(parseTopic("other@pod@m")).toBeUndefined();
  });
});
