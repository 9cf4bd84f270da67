import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as net from "node:net";
import { builtinPlugins } from "../../plugins/index.ts";
import { kvEventsHubOf } from "../../plugins/precise-prefix-cache.ts";
import { seededRandom } from "../../src/clock.ts";
import { parseConfig } from "../../src/config/load.ts";
import { createGateway, type Gateway } from "../../src/gateway.ts";
import { charTokens } from "../../src/kvevents/char-tokenizer.ts";
import type { PreciseState } from "../../src/kvevents/hub.ts";
import { silentLogger } from "../../src/log.ts";
import { serveBun } from "../../src/runtime/serve-bun.ts";
import type { RunningServer } from "../../src/runtime/server.ts";
import { tcpSubscriber } from "../../src/runtime/zmq-socket.ts";
import { promptText } from "../../src/scheduling/prefix/prompt.ts";
import { type RunningSimulator, startSimulators } from "../../src/simulator/index.ts";
import { waitFor } from "../helpers/stack.ts";

/**
 * A gateway on real ports with precise-prefix-cache-scorer in central mode, and two
 * simulated pods publishing their KV events to it as vLLM would. The case only KV events
 * can get right: a prompt the gateway sent to pod X, which X then evicted while pod Y
 * cached it (a client or another gateway sent it there): the gateway's own record (the
 * approximate index) still says X; the pods' events say Y.
 */
const MODEL = "m";

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

let pods: RunningSimulator[];
let gateway: Gateway;
let server: RunningServer;
let state: () => PreciseState;
let url: string;
let plugins: ReturnType<typeof builtinPlugins>;

async function setup(tokenizer: "simulator" | "pods"): Promise<void> {
  plugins = builtinPlugins({ kvSubscriber: tcpSubscriber });
  const kvPort = await freePort();
  pods = await startSimulators(
    serveBun,
    [0, 1].map((i) => ({
      model: MODEL,
      jitter: 0,
      timeScale: 0.01,
      numGpuBlocks: 48, // 48 blocks of 64 characters: room for two 20-block prompts
      random: seededRandom(7 + i),
      port: 0,
      hostname: "127.0.0.1",
      kvEventsConfig: {
        enable_kv_cache_events: true,
        publisher: "zmq" as const,
        endpoint: `tcp://127.0.0.1:${kvPort}`,
        topic: `kv@pod-${i}@${MODEL}`,
      },
    })),
  );
  const config = parseConfig(
    [
      JSON.stringify({
        apiVersion: "gateway.inference.dev/v1alpha1",
        kind: "GatewayConfig",
        // The serving pod's address on every answer (off by default): this test reads it.
        endpointServedHeader: true,
        logLevel: "silent",
        dataLayer: { scrapeIntervalMs: 20 },
        endpoints: pods.map((p, i) => ({
          name: `pod-${i}`,
          address: `127.0.0.1:${p.port}`,
          models: [MODEL],
        })),
      }),
      `apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
  - type: precise-prefix-cache-scorer
    parameters:
      tokenizer: { source: ${tokenizer} }
      kvEventsConfig: { zmqEndpoint: "tcp://127.0.0.1:${kvPort}" }
  - type: queue-scorer
  - type: max-score-picker
schedulingProfiles:
  - name: default
    plugins:
      - { pluginRef: precise-prefix-cache-scorer, weight: 3 }
      - { pluginRef: queue-scorer, weight: 1 }
      - { pluginRef: max-score-picker }`,
    ].join("\n---\n"),
    "precise.yaml",
  );
  gateway = createGateway({ config, logger: silentLogger(), random: seededRandom(1), plugins });
  gateway.start();
  server = await serveBun({ fetch: gateway.fetch, port: 0, hostname: "127.0.0.1" });
  url = `http://127.0.0.1:${server.port}`;
  state = () => kvEventsHubOf(plugins.registry)!.all()[0]!;
}

async function teardown(): Promise<void> {
  kvEventsHubOf(plugins.registry)?.close();
  await gateway.stop();
  await server.close();
  await Promise.all(pods.map((p) => p.close()));
}

const say = (text: string) => [{ role: "user", content: text }];

async function viaGateway(text: string): Promise<string> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: MODEL, messages: say(text), max_tokens: 1 }),
  });
  await res.json();
  expect(res.status).toBe(200);
  return res.headers.get("x-gateway-destination-endpoint-served")!;
}

async function direct(pod: RunningSimulator, text: string): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${pod.port}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: MODEL, messages: say(text), max_tokens: 1 }),
  });
  await res.json();
}

/** How many leading blocks of `text` the gateway's index says each pod holds. */
function held(text: string): number[] {
  const index = state().index;
  const keys = index.requestKeys(MODEL, charTokens(promptText({ messages: say(text) })));
  const m = index.match(keys, ["pod-0", "pod-1"]);
  return [m.get("pod-0") ?? 0, m.get("pod-1") ?? 0];
}

describe.each(["simulator", "pods"] as const)(
  "precise prefix-cache routing on real ports, tokens from %s",
  (tokenizer) => {
    beforeAll(() => setup(tokenizer));
    afterAll(teardown);

    test("a repeated prompt goes to the pod whose KV events say it holds the prompt, not where the gateway last sent it", async () => {
      // The first decision starts the subscription; pods' publishers connect to it.
      await viaGateway("hello");
      await waitFor(() => state().status === "ready");
      let n = 0;
      await waitFor(async () => {
        await Promise.all(pods.map((p) => direct(p, `warm-up ${n++} `.repeat(20))));
        return state().index.knows("pod-0") && state().index.knows("pod-1");
      });

      const prompt = "The quarterly report, section 4: ".repeat(40); // ~20 blocks of 64 characters
      const first = await viaGateway(prompt);
      const x = pods.findIndex((p) => first.endsWith(`:${p.port}`));
      const y = 1 - x;
      await waitFor(() => held(prompt)[x]! > 15);

      // X evicts it (other prompts fill its 48 blocks); Y caches it, sent there directly.
      for (let i = 0; i < 3; i++) await direct(pods[x]!, `filler ${i} `.repeat(120));
      await direct(pods[y]!, prompt);
      await waitFor(() => held(prompt)[x] === 0 && held(prompt)[y]! > 15);

      for (let i = 0; i < 3; i++) expect(await viaGateway(prompt)).toEndWith(`:${pods[y]!.port}`);
      expect(state().pool.counters.malformed).toBe(0);
    });
  },
);
