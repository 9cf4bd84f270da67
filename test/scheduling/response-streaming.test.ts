/**
 * The ResponseStreaming hook through the real proxy: a plugin that implements it sees
 * every chunk of a streamed answer the client gets (and none of a non-streamed one);
 * with no such plugin the relay gets no per-chunk wrapper.
 */
import { afterAll, expect, test } from "bun:test";
import OpenAI from "openai";
import { builtinPlugins } from "../../plugins/index.ts";
import { seededRandom } from "../../src/clock.ts";
import { parseConfig } from "../../src/config/load.ts";
import { createGateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { serveBun } from "../../src/runtime/serve-bun.ts";
import type { SchedulingContext, StreamedChunk } from "../../src/scheduling/framework/interfaces.ts";
import { startSimulators } from "../../src/simulator/index.ts";

const MODEL = "facebook/opt-125m";
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of closers.splice(0)) await c();
});

/** Counts the chunks and bytes it is shown, and where they came from. */
function chunkCounter() {
  const seen = { chunks: 0, bytes: 0, text: "", endpoints: new Set<string>() };
  const decoder = new TextDecoder();
  const plugin = {
    type: "chunk-counter",
    name: "chunk-counter",
    responseStreaming(_ctx: SchedulingContext, chunk: StreamedChunk) {
      seen.chunks++;
      seen.bytes += chunk.bytes.byteLength;
      seen.text += decoder.decode(chunk.bytes, { stream: true });
      seen.endpoints.add(chunk.endpoint.name);
    },
  };
  return { seen, plugin };
}

async function start(pickerPlugins: string[]) {
  const [pod] = await startSimulators(serveBun, [
    { model: MODEL, timeScale: 0, jitter: 0, random: seededRandom(1), port: 0, hostname: "127.0.0.1" },
  ]);
  closers.push(() => pod!.close());
  const settings = {
    apiVersion: "gateway.inference.dev/v1alpha1",
    kind: "GatewayConfig",
    logLevel: "silent",
    endpoints: [{ name: "live", address: `127.0.0.1:${pod!.port}`, models: [MODEL] }],
  };
  const picker = {
    apiVersion: "llm-d.ai/v1alpha1",
    kind: "EndpointPickerConfig",
    plugins: [...pickerPlugins.map((type) => ({ type })), { type: "max-score-picker" }],
  };
  const counter = chunkCounter();
  const plugins = builtinPlugins();
  plugins.registry.register("chunk-counter", () => counter.plugin);
  const config = parseConfig([JSON.stringify(settings), JSON.stringify(picker)].join("\n---\n"), "t.yaml");
  const gateway = createGateway({ config, logger: silentLogger(), plugins });
  const server = await serveBun({ fetch: gateway.fetch, port: 0, hostname: "127.0.0.1" });
  closers.push(async () => {
    await gateway.stop();
    await server.close();
  });
  const client = new OpenAI({
    baseURL: `http://127.0.0.1:${server.port}/v1`,
    apiKey: "unused",
    maxRetries: 0,
  });
  return { seen: counter.seen, client, gateway };
}

test("a plugin's ResponseStreaming hook sees every chunk of a streamed answer, from the endpoint that served", async () => {
  const { seen, client } = await start(["queue-scorer", "chunk-counter"]);
  const stream = await client.chat.completions.create({
    model: MODEL,
    messages: [{ role: "user", content: "hi" }],
    max_tokens: 5,
    stream: true,
  });
  let deltas = 0;
  for await (const part of stream) if (part.choices[0]?.delta?.content) deltas++;
  expect(deltas).toBeGreaterThan(0);
  // Each SSE event the client parsed passed through the hook, [DONE] included.
  expect(seen.chunks).toBeGreaterThan(0);
  expect(seen.text.split("data: ").length - 1).toBeGreaterThanOrEqual(deltas + 1);
  expect(seen.text).toContain("data: [DONE]");
  expect([...seen.endpoints]).toEqual(["live"]);
});

test("a non-streamed answer calls no ResponseStreaming hook", async () => {
  const { seen, client } = await start(["chunk-counter"]);
  const res = await client.chat.completions.create({
    model: MODEL,
    messages: [{ role: "user", content: "hi" }],
    max_tokens: 3,
  });
  expect(res.choices[0]?.message.content?.length).toBeGreaterThan(0);
  expect(seen.chunks).toBe(0);
});

test("without a ResponseStreaming plugin a request's lifecycle has no per-chunk hook (the relay's tap is not wrapped)", async () => {
  const decide = async (plugins: string[]) => {
    const { gateway } = await start(plugins);
    const endpoints = gateway.deps.endpoints.list();
    return gateway.deps.scheduler.schedule(
      { requestId: "r", targetModel: MODEL, body: {}, headers: new Headers() },
      endpoints,
    ).lifecycle;
  };
  // inflight-load-producer has the other hooks, so the request has a lifecycle, but no per-chunk call.
  const without = await decide(["inflight-load-producer"]);
  expect(without).toBeDefined();
  expect(without?.responseStreaming).toBeUndefined();
  const withCounter = await decide(["inflight-load-producer", "chunk-counter"]);
  expect(typeof withCounter?.responseStreaming).toBe("function");
});
