import { afterEach, describe, expect, test } from "bun:test";
import { KvBlockIndex } from "../../src/kvevents/block-index.ts";
import { charTokens } from "../../src/kvevents/char-tokenizer.ts";
import { decodeKvEventBatch, type KvEvent } from "../../src/kvevents/events.ts";
import { KvEventsPool } from "../../src/kvevents/pool.ts";
import { tcpSubscriber, ZmqSubscriber } from "../../src/runtime/zmq-socket.ts";
import { promptText } from "../../src/scheduling/prefix/prompt.ts";
import type { Simulator } from "../../src/simulator/index.ts";
import { blockHashes, PrefixCache } from "../../src/simulator/prefix-cache.ts";
import { waitFor } from "../helpers/stack.ts";
import { chat, fastSim, say } from "../simulator/helpers.ts";

const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

describe("the simulator's prefix cache reports KV events as vLLM does", () => {
  test("a new chain is one BlockStored (tokens, parent); a longer one stores only its new blocks; evictions are BlockRemoved", () => {
    const events: KvEvent[][] = [];
    const cache = new PrefixCache(3);
    cache.listen((e) => events.push(e));
    const text = "a".repeat(64) + "b".repeat(64) + "c".repeat(64);
    const chain = blockHashes(text, { model: "m", blockSize: 16 });
    cache.insert(blockHashes(text.slice(0, 128), { model: "m", blockSize: 16 }));
    cache.insert(chain);
    expect(events[0]).toEqual([
      {
        kind: "BlockStored",
        blockHashes: chain.slice(0, 2).map(String),
        parentBlockHash: undefined,
        tokenIds: Array.from(charTokens(text.slice(0, 128))),
        blockSize: 16,
        loraId: undefined,
        medium: "GPU",
      },
    ]);
    expect(events[1]).toEqual([
      {
        kind: "BlockStored",
        blockHashes: [String(chain[2])],
        parentBlockHash: String(chain[1]),
        tokenIds: Array.from(charTokens(text.slice(128))),
        blockSize: 16,
        loraId: undefined,
        medium: "GPU",
      },
    ]);
    cache.insert(blockHashes("z".repeat(64), { model: "m", blockSize: 16 }));
    expect(events[2]?.at(-1)).toEqual({
      kind: "BlockRemoved",
      blockHashes: [String(chain[2])],
      medium: "GPU",
    });
    cache.clear();
    expect(events[3]).toEqual([{ kind: "AllBlocksCleared" }]);
  });

  test("a simulated pod publishes over ZMQ to a central subscriber; the gateway's index then matches its prompt", async () => {
    const index = new KvBlockIndex({ clock: { now: () => 0 }, blockSize: 16 });
    const probe = new ZmqSubscriber([], () => {});
    const { port } = await probe.bind("tcp://127.0.0.1:0");
    probe.close();
    const pool = new KvEventsPool({
      config: {
        zmqEndpoint: `tcp://127.0.0.1:${port}`,
        topicFilter: "kv@",
        discoverPods: false,
        socketPort: 5557,
      },
      index,
      subscriber: tcpSubscriber,
    });
    closers.push(() => pool.close());
    await pool.start();
    const sim: Simulator = fastSim({
      numGpuBlocks: 64,
      kvEventsConfig: {
        enable_kv_cache_events: true,
        publisher: "zmq",
        endpoint: `tcp://127.0.0.1:${port}`,
        topic: "kv@pod-a@m",
      },
    });
    closers.push(() => sim.close());
    const messages = say("You are a helpful assistant. ".repeat(20));
    const keys = index.requestKeys("m", charTokens(promptText({ messages })));
    expect(keys.length).toBeGreaterThan(5);
    // The publisher connects in the background and a ZMQ PUB drops what it cannot send
    // yet: warm up with other prompts until events arrive, then send the one under test.
    let n = 0;
    await waitFor(async () => {
      await (await chat(sim, { messages: say(`warm-up ${n++} `.repeat(20)), max_tokens: 1 })).json();
      return pool.counters.messages > 0;
    });
    expect(index.match(keys, ["pod-a"]).size).toBe(0);
    await (await chat(sim, { messages, max_tokens: 1 })).json();
    await waitFor(() => index.match(keys, ["pod-a"]).get("pod-a") === keys.length);
    expect(pool.counters.malformed).toBe(0);
  });

  test("the simulator's options refuse a publisher vLLM does not have", () => {
    expect(() =>
      fastSim({ kvEventsConfig: { enable_kv_cache_events: true, publisher: "kafka" as "zmq" } }),
    ).toThrow(/publisher must be "zmq" or "null"/);
    expect(() =>
      fastSim({ kvEventsConfig: { enable_kv_cache_events: true, endpoint: "ipc:///tmp/x" } }),
    ).toThrow(/tcp:\/\/HOST:PORT/);
  });

  test("the payloads on the wire decode as vLLM's KVEventBatch: [topic, 8-byte seq, msgpack]", async () => {
    const frames: Uint8Array[][] = [];
    const sub = new ZmqSubscriber(["kv@"], (f) => frames.push(f));
    closers.push(() => sub.close());
    const { port } = await sub.bind("tcp://127.0.0.1:0");
    const sim = fastSim({
      kvEventsConfig: { enable_kv_cache_events: true, endpoint: `tcp://127.0.0.1:${port}`, topic: "kv@p@m" },
    });
    closers.push(() => sim.close());
    let n = 0;
    await waitFor(async () => {
      await (await chat(sim, { messages: say(`x${n++}`.repeat(100)), max_tokens: 1 })).json();
      return frames.length > 1;
    });
    const [topic, seq, payload] = frames[1]!;
    expect(new TextDecoder().decode(topic)).toBe("kv@p@m");
    expect(seq!.length).toBe(8);
    expect(new DataView(seq!.buffer, seq!.byteOffset, 8).getBigUint64(0)).toBeGreaterThan(0n);
    expect(decodeKvEventBatch(payload!).events[0]?.kind).toBe("BlockStored");
  });
});
