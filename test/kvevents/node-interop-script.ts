/**
 * Run by node-interop.test.ts under Node (`node --import tsx`): our ZMTP sockets against
 * libzmq itself (the `zeromq` package, which loads under Node only), both directions and
 * both subscription modes, then the KV-events pool on the gateway's path. Prints one JSON
 * line with what arrived; bounded: every wait gives up after 200 tries.
 */
import * as zmq from "zeromq";
import { builtinPlugins } from "../../plugins/index.ts";
import { kvEventsHubOf } from "../../plugins/precise-prefix-cache.ts";
import { parseConfig } from "../../src/config/load.ts";
import { createGateway } from "../../src/gateway.ts";
import { KvBlockIndex } from "../../src/kvevents/block-index.ts";
import { charTokens } from "../../src/kvevents/char-tokenizer.ts";
import { encodeKvEventBatch, seqFrame } from "../../src/kvevents/events.ts";
import { KvEventsPool } from "../../src/kvevents/pool.ts";
import { silentLogger } from "../../src/log.ts";
import { serveNode } from "../../src/runtime/serve-node.ts";
import { tcpSubscriber, ZmqPublisher, ZmqSubscriber } from "../../src/runtime/zmq-socket.ts";
import { promptText } from "../../src/scheduling/prefix/prompt.ts";
import { createSimulator, startSimulators } from "../../src/simulator/index.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(done: () => boolean, step: () => Promise<unknown> | unknown): Promise<boolean> {
  for (let i = 0; i < 200 && !done(); i++) {
    await step();
    await sleep(10);
  }
  return done();
}

const result: Record<string, unknown> = { runtime: `node ${process.versions.node}` };

// 1. libzmq PUB binds (vLLM's default), our SUB connects (per-pod mode).
{
  const pub = new zmq.Publisher();
  await pub.bind("tcp://127.0.0.1:*");
  const got: string[][] = [];
  const sub = new ZmqSubscriber(["kv@"], (frames) => got.push(frames.map(dec)));
  sub.connect(pub.lastEndpoint!);
  result["libzmqPubToOurSub"] = await until(
    () => got.length > 0,
    () => pub.send(["kv@10.0.0.5@m", "seq", "payload"]),
  );
  result["libzmqFrames"] = got[0];
  sub.close();
  pub.close();
}

// 2. Our PUB binds, libzmq SUB connects and filters by topic.
{
  const pub = new ZmqPublisher();
  const { port } = await pub.bind("tcp://127.0.0.1:0");
  const sub = new zmq.Subscriber();
  sub.connect(`tcp://127.0.0.1:${port}`);
  sub.subscribe("kv@");
  const got: string[][] = [];
  void (async () => {
    for await (const frames of sub) got.push(frames.map((f) => dec(f)));
  })().catch(() => {});
  result["ourPubToLibzmqSub"] = await until(
    () => got.length > 0,
    () => {
      pub.send([enc("other@x@m"), enc("filtered out")]);
      pub.send([enc("kv@p@m"), enc("hello")]);
    },
  );
  result["libzmqSubGot"] = got[0];
  result["libzmqSubFiltered"] = got.every((m) => m[0] === "kv@p@m");
  sub.close();
  pub.close();
}

// 3. Central mode as vLLM runs it: the gateway's pool binds, libzmq PUB connects and
//    sends [topic, seq, KVEventBatch].
{
  const index = new KvBlockIndex({ clock: { now: () => 0 }, blockSize: 2 });
  const probe = new ZmqSubscriber([], () => {});
  const { port } = await probe.bind("tcp://127.0.0.1:0");
  probe.close();
  await sleep(20);
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
  await pool.start();
  const pub = new zmq.Publisher();
  pub.connect(`tcp://127.0.0.1:${port}`);
  const batch = encodeKvEventBatch({
    ts: 1,
    dataParallelRank: 0,
    events: [
      {
        kind: "BlockStored",
        blockHashes: ["11", "12"],
        parentBlockHash: undefined,
        tokenIds: [1, 2, 3, 4],
        blockSize: 2,
        loraId: undefined,
        medium: "GPU",
      },
    ],
  });
  let seq = 0;
  result["centralIndexed"] = await until(
    () => index.match(index.requestKeys("m", [1, 2, 3, 4]), ["10.0.0.5"]).get("10.0.0.5") === 2,
    () => pub.send(["kv@10.0.0.5@m", Buffer.from(seqFrame(seq++)), Buffer.from(batch)]),
  );
  result["centralMalformed"] = pool.counters.malformed;
  pool.close();
  pub.close();
}

// 4. The simulator publishes under Node too (its publisher loads the same sockets).
{
  const index = new KvBlockIndex({ clock: { now: () => 0 }, blockSize: 16 });
  const pool = new KvEventsPool({
    config: { zmqEndpoint: "", topicFilter: "kv@", discoverPods: false, socketPort: 5557 },
    index,
    subscriber: tcpSubscriber,
  });
  const sub = tcpSubscriber(
    ["kv@"],
    (frames) => pool.handle(frames, undefined),
    () => {},
  );
  const { port } = (await sub.bind("tcp://127.0.0.1:0")) as { port: number };
  const sim = createSimulator({
    model: "m",
    jitter: 0,
    timeScale: 0.01,
    kvEventsConfig: { enable_kv_cache_events: true, endpoint: `tcp://127.0.0.1:${port}`, topic: "kv@sim@m" },
  });
  let n = 0;
  result["simulatorPublishes"] = await until(
    () => index.knows("sim"),
    async () => {
      const res = await sim.fetch(
        new Request("http://sim/v1/completions", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "m", prompt: `node ${n++} `.repeat(40), max_tokens: 1 }),
        }),
      );
      await res.text();
    },
  );
  sim.close();
  sub.close();
}

// 5. The gateway on Node with precise-prefix-cache-scorer in central mode: a prompt cached
//    on pod 1 only (sent there directly) is routed there.
{
  const probe = new ZmqSubscriber([], () => {});
  const { port: kvPort } = await probe.bind("tcp://127.0.0.1:0");
  probe.close();
  await sleep(20);
  const pods = await startSimulators(
    serveNode,
    [0, 1].map((i) => ({
      model: "m",
      jitter: 0,
      timeScale: 0.01,
      port: 0,
      hostname: "127.0.0.1",
      kvEventsConfig: {
        enable_kv_cache_events: true,
        endpoint: `tcp://127.0.0.1:${kvPort}`,
        topic: `kv@pod-${i}@m`,
      },
    })),
  );
  const plugins = builtinPlugins({ kvSubscriber: tcpSubscriber });
  const config = parseConfig(
    [
      JSON.stringify({
        apiVersion: "gateway.inference.dev/v1alpha1",
        kind: "GatewayConfig",
        // The serving pod's address on every answer (off by default): this test reads it.
        endpointServedHeader: true,
        logLevel: "silent",
        endpoints: pods.map((p, i) => ({ name: `pod-${i}`, address: `127.0.0.1:${p.port}`, models: ["m"] })),
      }),
      `apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
  - type: precise-prefix-cache-scorer
    parameters: { tokenizer: { source: simulator }, kvEventsConfig: { zmqEndpoint: "tcp://127.0.0.1:${kvPort}" } }
  - type: max-score-picker
schedulingProfiles:
  - name: default
    plugins: [{ pluginRef: precise-prefix-cache-scorer, weight: 3 }, { pluginRef: max-score-picker }]`,
    ].join("\n---\n"),
    "node.yaml",
  );
  const gateway = createGateway({ config, logger: silentLogger(), plugins });
  gateway.start();
  const server = await serveNode({ fetch: gateway.fetch, port: 0, hostname: "127.0.0.1" });
  const chat = async (base: string, content: string) => {
    const res = await fetch(`${base}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content }], max_tokens: 1 }),
    });
    await res.text();
    return res.headers.get("x-gateway-destination-endpoint-served") ?? "";
  };
  const gw = `http://127.0.0.1:${server.port}`;
  await chat(gw, "start the subscription");
  const state = kvEventsHubOf(plugins.registry)!.all()[0]!;
  let n = 0;
  await until(
    () => state.index.knows("pod-1"),
    () => chat(`http://127.0.0.1:${pods[1]!.port}`, `warm-up ${n++} `.repeat(20)),
  );
  // Each prompt cached on one pod only, sent there directly: the gateway must follow the
  // events (by load and hash alone both would go to the same pod).
  const served: boolean[] = [];
  for (const [i, prompt] of [
    [1, "only pod one holds this "],
    [0, "only pod zero holds that "],
  ] as const) {
    const text = prompt.repeat(12);
    await chat(`http://127.0.0.1:${pods[i]!.port}`, text);
    const keys = state.index.requestKeys(
      "m",
      charTokens(promptText({ messages: [{ role: "user", content: text }] })),
    );
    await until(
      () => state.index.match(keys, [`pod-${i}`]).get(`pod-${i}`) === keys.length,
      () => {},
    );
    served.push((await chat(gw, text)).endsWith(`:${pods[i]!.port}`));
  }
  result["gatewayOnNodeRoutesToHolder"] = served.every(Boolean);
  kvEventsHubOf(plugins.registry)!.close();
  await gateway.stop();
  await server.close();
  await Promise.all(pods.map((p) => p.close()));
}

console.log(JSON.stringify(result));
process.exit(0);
