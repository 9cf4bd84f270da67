import { afterEach, describe, expect, test } from "bun:test";
import * as net from "node:net";
import { KvBlockIndex } from "../../src/kvevents/block-index.ts";
import { encodeKvEventBatch, seqFrame } from "../../src/kvevents/events.ts";
import { KvEventsPool } from "../../src/kvevents/pool.ts";
import { tcpSubscriber, ZmqPublisher, ZmqSubscriber } from "../../src/runtime/zmq-socket.ts";
import { waitFor } from "../helpers/stack.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

/** Sends until `received` says the message arrived (PUB drops what it sends before the subscription lands). */
async function sendUntil(pub: ZmqPublisher, frames: Uint8Array[], received: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !received(); i++) {
    pub.send(frames);
    await Bun.sleep(10);
  }
  expect(received()).toBe(true);
}

describe("ZMTP PUB/SUB over loopback", () => {
  test("a SUB that connects gets the messages whose topic matches its filter, multipart and large", async () => {
    const pub = new ZmqPublisher();
    closers.push(() => pub.close());
    const { port } = await pub.bind("tcp://127.0.0.1:0");
    const got: string[][] = [];
    const sub = new ZmqSubscriber(["kv@"], (frames) =>
      got.push(frames.map((f) => (f.length > 300 ? `${f.length}` : dec(f)))),
    );
    closers.push(() => sub.close());
    sub.connect(`tcp://127.0.0.1:${port}`);
    await waitFor(() => pub.subscribers === 1);
    pub.send([enc("other@x@m"), enc("dropped")]);
    await sendUntil(pub, [enc("kv@p@m"), enc("seq"), new Uint8Array(70_000)], () => got.length > 0);
    expect(got[0]).toEqual(["kv@p@m", "seq", "70000"]);
    expect(got.every((m) => m[0] === "kv@p@m")).toBe(true);
  });

  test("central mode: the SUB binds and a publisher connects to it; a dropped publisher reconnects", async () => {
    const got: string[] = [];
    const sub = new ZmqSubscriber([""], (frames) => got.push(dec(frames[1]!)), { reconnectMs: 10 });
    closers.push(() => sub.close());
    const { port } = await sub.bind("tcp://127.0.0.1:0");
    const pub = new ZmqPublisher({ reconnectMs: 10, maxReconnectMs: 50 });
    closers.push(() => pub.close());
    pub.connect(`tcp://127.0.0.1:${port}`);
    await sendUntil(pub, [enc("t"), enc("one")], () => got.includes("one"));
    // The subscriber side goes away and comes back on the same port: the publisher redials.
    sub.close();
    const again = new ZmqSubscriber([""], (frames) => got.push(dec(frames[1]!)));
    closers.push(() => again.close());
    await again.bind(`tcp://127.0.0.1:${port}`);
    await sendUntil(pub, [enc("t"), enc("two")], () => got.includes("two"));
  });

  test("a SUB connecting before its publisher exists keeps redialling until it is up", async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const got: string[] = [];
    const sub = new ZmqSubscriber(["kv@"], (frames) => got.push(dec(frames[0]!)), {
      reconnectMs: 10,
      maxReconnectMs: 40,
    });
    closers.push(() => sub.close());
    sub.connect(`tcp://127.0.0.1:${port}`);
    await Bun.sleep(50); // a few refused dials
    const pub = new ZmqPublisher();
    closers.push(() => pub.close());
    await pub.bind(`tcp://127.0.0.1:${port}`);
    await sendUntil(pub, [enc("kv@a@m"), enc("x")], () => got.length > 0);
  });

  test("garbage on the wire closes that connection only; the socket keeps serving others", async () => {
    const errors: string[] = [];
    const got: string[] = [];
    const sub = new ZmqSubscriber([""], (frames) => got.push(dec(frames[0]!)), {
      onError: (e) => errors.push(e.message),
    });
    closers.push(() => sub.close());
    const { port } = await sub.bind("tcp://127.0.0.1:0");
    for (const junk of [
      enc("GET / HTTP/1.1\r\n\r\n".padEnd(80, "x")),
      Uint8Array.of(0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 2, ...new Uint8Array(60)),
    ]) {
      const c = net.connect(port, "127.0.0.1");
      c.on("error", () => {});
      c.resume(); // read our greeting, so the close is seen
      c.write(junk);
      await new Promise<void>((r) => c.once("close", () => r()));
    }
    expect(errors.length).toBe(2);
    const pub = new ZmqPublisher();
    closers.push(() => pub.close());
    pub.connect(`tcp://127.0.0.1:${port}`);
    await sendUntil(pub, [enc("fine")], () => got.includes("fine"));
  });

  test("the pool counts malformed messages, skips them, and applies the good ones", async () => {
    const index = new KvBlockIndex({ clock: { now: () => 0 }, blockSize: 2 });
    const logs: string[] = [];
    const pool = new KvEventsPool({
      config: { zmqEndpoint: "tcp://127.0.0.1:0", topicFilter: "kv@", discoverPods: false, socketPort: 5557 },
      index,
      subscriber: tcpSubscriber,
      log: (m) => logs.push(m),
    });
    closers.push(() => pool.close());
    const good = encodeKvEventBatch({
      ts: 1,
      dataParallelRank: 0,
      events: [
        {
          kind: "BlockStored",
          blockHashes: ["1"],
          parentBlockHash: undefined,
          tokenIds: [7, 8],
          blockSize: 2,
          loraId: undefined,
          medium: "GPU",
        },
      ],
    });
    pool.handle([enc("kv@p@m"), seqFrame(0), Uint8Array.of(0xc1)], undefined); // not msgpack
    pool.handle([enc("nope"), seqFrame(1), good], undefined); // topic without pod and model
    pool.handle([enc("kv@p@m")], undefined); // one frame
    pool.handle([enc("kv@p@m"), seqFrame(2), good], undefined);
    expect(pool.counters).toMatchObject({ messages: 4, malformed: 3, events: 1, resets: 0 });
    expect(index.match(index.requestKeys("m", [7, 8]), ["p"]).get("p")).toBe(1);
    expect(logs.length).toBeGreaterThan(0);
  });

  test("a sequence gap (lost batches) or a restart (numbers start over) forgets the pod, then rebuilds it", () => {
    const index = new KvBlockIndex({ clock: { now: () => 0 }, blockSize: 2 });
    const pool = new KvEventsPool({
      config: { zmqEndpoint: "", topicFilter: "kv@", discoverPods: false, socketPort: 5557 },
      index,
      subscriber: tcpSubscriber,
    });
    const batch = (hash: string, tokens: number[]) =>
      encodeKvEventBatch({
        ts: 1,
        dataParallelRank: 0,
        events: [
          {
            kind: "BlockStored",
            blockHashes: [hash],
            parentBlockHash: undefined,
            tokenIds: tokens,
            blockSize: 2,
            loraId: undefined,
            medium: "GPU",
          },
        ],
      });
    const held = (tokens: number[]) => index.match(index.requestKeys("m", tokens), ["p"]).get("p") ?? 0;
    pool.handle([enc("kv@p@m"), seqFrame(7), batch("1", [1, 1])], undefined);
    pool.handle([enc("kv@p@m"), seqFrame(8), batch("2", [2, 2])], undefined);
    expect([held([1, 1]), held([2, 2]), pool.counters.resets]).toEqual([1, 1, 0]);
    pool.handle([enc("kv@p@m"), seqFrame(10), batch("3", [3, 3])], undefined); // 9 was lost
    expect([held([1, 1]), held([2, 2]), held([3, 3]), pool.counters.resets]).toEqual([0, 0, 1, 1]);
    pool.handle([enc("kv@p@m"), seqFrame(0), batch("4", [4, 4])], undefined); // the pod restarted
    expect([held([3, 3]), held([4, 4]), pool.counters.resets]).toEqual([0, 1, 2]);
    pool.close();
  });
});
