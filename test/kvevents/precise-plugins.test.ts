import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import * as net from "node:net";
import { parseAllDocuments } from "yaml";
import { builtinRegistry } from "../../plugins/index.ts";
import {
  kvEventsHubOf,
  registerPrecisePrefix,
  subscriberLoader,
} from "../../plugins/precise-prefix-cache.ts";
import { chainKeys, rootKey } from "../../src/kvevents/block-keys.ts";
import { charTokens } from "../../src/kvevents/char-tokenizer.ts";
import { encodeKvEventBatch, seqFrame } from "../../src/kvevents/events.ts";
import { tcpSubscriber, ZmqPublisher } from "../../src/runtime/zmq-socket.ts";
import type { PreRequest, Scorer } from "../../src/scheduling/framework/interfaces.ts";
import { PluginRegistry } from "../../src/scheduling/framework/registry.ts";
import { promptText } from "../../src/scheduling/prefix/prompt.ts";
import { waitFor } from "../helpers/stack.ts";
import { context, deps, endpoint, fixedClock, request } from "../scheduling/helpers.ts";

const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

function create(
  type: string,
  parameters: unknown,
  registry = builtinRegistry(undefined, tcpSubscriber),
  d = deps(),
) {
  const plugin = registry.create({ type, name: type, parameters }, d, `plugins[0] (${type})`);
  const hub = kvEventsHubOf(registry);
  if (hub) closers.push(() => hub.close());
  return { plugin: plugin as Scorer & PreRequest, registry, hub: hub! };
}

async function freePort(host = "127.0.0.1"): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, host, r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe("configured as upstream", () => {
  test("defaults: blocks of 16 tokens, topic kv@, speculative TTL 2s, 10 pods per key, 1e8 keys, per-pod port 5557, tokens from the pods", () => {
    const { hub } = create("precise-prefix-cache-producer", undefined);
    expect(hub.all()[0]!.settings).toMatchObject({
      blockSize: 16,
      hashSeed: "",
      speculativeTtlMs: 2000,
      maxPodsPerKey: 10,
      maxKeys: 100_000_000,
      events: { zmqEndpoint: "", topicFilter: "kv@", discoverPods: false, socketPort: 5557 },
    });
  });

  test("upstream fixture 23's producer parameters load as written", () => {
    const text = readFileSync(
      `${import.meta.dir}/../../../shared/upstream-configs/23-llmd-router-deploy-precise-prefix.yaml`,
      "utf8",
    );
    const doc = parseAllDocuments(text)[0]!.toJS() as { plugins: { type: string; parameters?: unknown }[] };
    const spec = doc.plugins.find((p) => p.type === "precise-prefix-cache-producer")!;
    const { hub, plugin } = create(spec.type, spec.parameters);
    expect(hub.all()[0]!.settings.blockSize).toBe(64);
    expect((plugin as unknown as { note: string }).note).toContain("blocks of 64 tokens");
  });

  test("llm-d's snapshot-recovery example (kvEventsConfig.snapshotPort) loads; recovery is from live events", () => {
    const parameters = {
      speculativeIndexing: false,
      kvEventsConfig: {
        discoverPods: true,
        topicFilter: "kv@",
        snapshotPort: 6000,
        podDiscoveryConfig: { socketPort: 5557 },
      },
    };
    const { hub } = create("precise-prefix-cache-producer", parameters);
    expect(hub.all()[0]!.settings.events).toMatchObject({ discoverPods: true, socketPort: 5557 });
  });

  test.each([
    [{ kvEventsConfig: { snapshotPort: 70_000 } }, /kvEventsConfig\.snapshotPort/],
    [{ kvEventsConfig: { zmqEndpont: "tcp://*:5557" } }, /kvEventsConfig\.zmqEndpont.*unknown field/],
    [{ kvEventsConfig: { zmqEndpoint: "localhost:5557" } }, /kvEventsConfig\.zmqEndpoint.*tcp:\/\/HOST:PORT/],
    [{ kvEventsConfig: { engineType: "sglang" } }, /engineType.*only "vllm"/],
    [{ speculativeTTL: "2 seconds" }, /speculativeTTL.*a duration such as "2s"/],
    [{ tokenProcessorConfig: { blockSize: 0 } }, /tokenProcessorConfig\.blockSize/],
  ])("%j is refused naming the field", (parameters, message) => {
    expect(() => create("precise-prefix-cache-producer", parameters)).toThrow(message);
  });

  test("the scorer reads a producer named by prefixMatchInfoProducerName (one shared index); a wrong name is refused", () => {
    const registry = builtinRegistry(undefined, tcpSubscriber);
    const d = deps();
    const producer = registry.create(
      { type: "precise-prefix-cache-producer", name: "cache", parameters: {} },
      d,
      "p0",
    );
    const producers = new Map([["cache", producer]]);
    registry.create(
      {
        type: "precise-prefix-cache-scorer",
        name: "s",
        parameters: { prefixMatchInfoProducerName: "cache" },
      },
      { ...d, producers },
      "p1",
    );
    expect(kvEventsHubOf(registry)!.all()).toHaveLength(1);
    expect(() =>
      registry.create(
        {
          type: "precise-prefix-cache-scorer",
          name: "s",
          parameters: { prefixMatchInfoProducerName: "nope" },
        },
        { ...d, producers },
        "p1",
      ),
    ).toThrow(/prefixMatchInfoProducerName.*precise-prefix-cache-producer in plugins \(defined: cache\)/);
    kvEventsHubOf(registry)!.close();
  });
});

const chat = (text: string) => request({ body: { model: "m", messages: [{ role: "user", content: text }] } });

describe("scoring", () => {
  test("speculative entries: the chosen pod scores the prompt at once, until the TTL passes with no event", () => {
    const clock = fixedClock();
    const d = { ...deps(), clock };
    const { plugin } = create(
      "precise-prefix-cache-scorer",
      { speculativeIndexing: true, speculativeTTL: "500ms", tokenizer: { source: "simulator" } },
      builtinRegistry(undefined, tcpSubscriber),
      d,
    );
    const eps = [endpoint("a"), endpoint("bb")];
    const text = "x".repeat(64 * 4);
    const ctx1 = context({ request: chat(text), clock });
    expect(Array.from(plugin.score(ctx1, eps) as number[])).toEqual([0, 0]);
    plugin.preRequest(ctx1, [eps[1]!]);
    expect(Array.from(plugin.score(context({ request: chat(text), clock }), eps) as number[])).toEqual([
      0, 1,
    ]);
    clock.t += 501;
    expect(Array.from(plugin.score(context({ request: chat(text), clock }), eps) as number[])).toEqual([
      0, 0,
    ]);
  });

  test("per-pod mode subscribes to each endpoint's host at socketPort and credits its events to that endpoint", async () => {
    const port = await freePort("127.0.0.2");
    const pubs = await Promise.all(
      ["127.0.0.2", "127.0.0.3"].map(async (host) => {
        const p = new ZmqPublisher();
        closers.push(() => p.close());
        await p.bind(`tcp://${host}:${port}`);
        return p;
      }),
    );
    const { plugin, hub } = create("precise-prefix-cache-scorer", {
      tokenizer: { source: "simulator" },
      kvEventsConfig: { podDiscoveryConfig: { socketPort: port } },
    });
    const a = { ...endpoint("a"), address: "127.0.0.2:8000" };
    const b = { ...endpoint("b"), address: "127.0.0.3:8000" };
    const text = "per-pod mode ".repeat(30);
    const score = () => Array.from(plugin.score(context({ request: chat(text) }), [a, b]) as number[]);
    score(); // starts the subscriber machinery
    await waitFor(() => hub.all()[0]!.status === "ready");
    score(); // subscribes to both pods
    expect(hub.all()[0]!.pool.podSubscriptions().sort()).toEqual(["a", "b"]);
    // Only b's vLLM reports the prompt; its topic names some pod IP, which per-pod mode ignores.
    const tokens = Array.from(charTokens(promptText({ messages: [{ role: "user", content: text }] })));
    const blocks = Math.floor(tokens.length / 16);
    const engine = chainKeys(rootKey("engine"), tokens, 16).map(String); // any engine hashes
    const payload = encodeKvEventBatch({
      ts: 1,
      dataParallelRank: 0,
      events: [
        {
          kind: "BlockStored",
          blockHashes: engine,
          parentBlockHash: undefined,
          tokenIds: tokens.slice(0, blocks * 16),
          blockSize: 16,
          loraId: undefined,
          medium: "GPU",
        },
      ],
    });
    let seq = 0;
    await waitFor(() => {
      pubs[1]!.send([new TextEncoder().encode("kv@10.9.9.9@m"), seqFrame(seq++), payload]);
      return score()[1] === 1;
    });
    expect(score()).toEqual([0, 1]);
  });

  test("a central endpoint that cannot be bound logs once and scores with the approximate index instead", async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
    closers.push(() => busy.close());
    const port = (busy.address() as net.AddressInfo).port;
    const logs: string[] = [];
    const registry = new PluginRegistry();
    const hub = registerPrecisePrefix(registry, { log: (m) => logs.push(m), subscriber: tcpSubscriber });
    closers.push(() => hub.close());
    const d = deps();
    const plugin = registry.create(
      {
        type: "precise-prefix-cache-scorer",
        name: "p",
        parameters: {
          tokenizer: { source: "simulator" },
          kvEventsConfig: { zmqEndpoint: `tcp://127.0.0.1:${port}` },
        },
      },
      d,
      "p0",
    ) as Scorer & PreRequest;
    const eps = [endpoint("a"), endpoint("bb")];
    const text = "fallback ".repeat(40);
    plugin.score(context({ request: chat(text) }), eps);
    await waitFor(() => hub.all()[0]!.status === "failed");
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(
      /KV events unavailable \(.*\); scoring with the approximate prefix index instead/,
    );
    const ctx = context({ request: chat(text) });
    plugin.score(ctx, eps);
    plugin.preRequest(ctx, [eps[0]!]);
    expect(Array.from(plugin.score(context({ request: chat(text) }), eps) as number[])).toEqual([1, 0]);
  });

  test("on Workers (and Deno) the plugin logs why and keeps the approximate index", async () => {
    await expect(
      subscriberLoader(tcpSubscriber, { navigator: { userAgent: "Cloudflare-Workers" } })(),
    ).rejects.toThrow(/Workers/);
    await expect(subscriberLoader(tcpSubscriber, { Deno: {} })()).rejects.toThrow(/Bun and Node only/);
    // No transport injected (a runtime entry that has none): refused with why, not a crash.
    await expect(subscriberLoader(undefined)()).rejects.toThrow(/no TCP sockets/);
    expect(await subscriberLoader(tcpSubscriber)()).toBe(tcpSubscriber); // here, under Bun
    const logs: string[] = [];
    const registry = new PluginRegistry();
    const hub = registerPrecisePrefix(registry, {
      log: (m) => logs.push(m),
      loadSubscriber: subscriberLoader(tcpSubscriber, { navigator: { userAgent: "Cloudflare-Workers" } }),
    });
    closers.push(() => hub.close());
    const plugin = registry.create(
      { type: "precise-prefix-cache-scorer", name: "p", parameters: { tokenizer: { source: "simulator" } } },
      deps(),
      "p0",
    ) as Scorer & PreRequest;
    const eps = [endpoint("a"), endpoint("bb")];
    const text = "on workers ".repeat(40);
    plugin.score(context({ request: chat(text) }), eps);
    await waitFor(() => hub.all()[0]!.status === "failed");
    expect(logs[0]).toMatch(/KV events unavailable \(Cloudflare Workers cannot keep the TCP sockets/);
    const ctx = context({ request: chat(text) });
    plugin.score(ctx, eps);
    plugin.preRequest(ctx, [eps[1]!]);
    expect(Array.from(plugin.score(context({ request: chat(text) }), eps) as number[])).toEqual([0, 1]);
  });

  test("a pod with no event and no decision for 10 minutes is forgotten; live ones are kept", () => {
    const clock = fixedClock();
    const { plugin, hub } = create(
      "precise-prefix-cache-scorer",
      { speculativeIndexing: true, speculativeTTL: "1h", tokenizer: { source: "simulator" } },
      builtinRegistry(undefined, tcpSubscriber),
      { ...deps(), clock },
    );
    const [a, b] = [endpoint("a"), endpoint("bb")];
    const text = "prune me ".repeat(40);
    const ctx = context({ request: chat(text), clock });
    plugin.score(ctx, [a, b]);
    plugin.preRequest(ctx, [a]); // a holds it (speculatively, for an hour)
    const index = hub.all()[0]!.index;
    expect(index.knows(a.address)).toBe(true);
    clock.t += 9 * 60_000;
    plugin.score(context({ request: chat("x"), clock }), [b]); // only b is a candidate now
    expect(index.knows(a.address)).toBe(true);
    clock.t += 2 * 60_000; // a: 11 minutes without an event or a decision
    plugin.score(context({ request: chat("y"), clock }), [b]);
    expect(index.knows(a.address)).toBe(false);
    expect(Array.from(plugin.score(context({ request: chat(text), clock }), [a, b]) as number[])).toEqual([
      0, 0,
    ]);
  });
});
