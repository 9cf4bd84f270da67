/**
 * The request lifecycle through the real proxy: when the primary refuses and a fallback
 * answers, the plugins' ResponseReceived hook sees the fallback (session affinity hands
 * out its token, not the primary's).
 */
import { afterAll, expect, test } from "bun:test";
import { encodeSessionToken } from "../../plugins/session-affinity-scorer.ts";
import { seededRandom } from "../../src/clock.ts";
import { parseConfig } from "../../src/config/load.ts";
import { createGateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { serveBun } from "../../src/runtime/serve-bun.ts";
import { startSimulators } from "../../src/simulator/index.ts";

const MODEL = "facebook/opt-125m";
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of closers.splice(0)) await c();
});

test("a fallback that served is the endpoint the plugins' response hooks see", async () => {
  const [pod] = await startSimulators(serveBun, [
    { model: MODEL, timeScale: 0, jitter: 0, random: seededRandom(1), port: 0, hostname: "127.0.0.1" },
  ]);
  closers.push(() => pod!.close());
  const settings = {
    apiVersion: "gateway.inference.dev/v1alpha1",
    kind: "GatewayConfig",
    // The serving pod's address on every answer (off by default): this test reads it.
    endpointServedHeader: true,
    logLevel: "silent",
    endpoints: [
      { name: "dead", address: "127.0.0.1:1", models: [MODEL] }, // nothing listens on port 1
      { name: "live", address: `127.0.0.1:${pod!.port}`, models: [MODEL] },
    ],
  };
  const picker = {
    apiVersion: "llm-d.ai/v1alpha1",
    kind: "EndpointPickerConfig",
    plugins: [
      { type: "session-affinity-scorer" },
      { type: "inflight-load-producer" },
      { type: "max-score-picker", parameters: { maxNumOfEndpoints: 2 } },
    ],
  };
  const config = parseConfig([JSON.stringify(settings), JSON.stringify(picker)].join("\n---\n"), "t.yaml");
  const gateway = createGateway({ config, logger: silentLogger(), random: seededRandom(1) });
  const server = await serveBun({ fetch: gateway.fetch, port: 0, hostname: "127.0.0.1" });
  closers.push(async () => {
    await gateway.stop();
    await server.close();
  });
  // The session token names the dead pod, so it is the primary and the live pod the fallback.
  const res = await fetch(`http://127.0.0.1:${server.port}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-session-token": encodeSessionToken("dead") },
    body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "hi" }], max_tokens: 2 }),
  });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  expect(res.headers.get("x-gateway-destination-endpoint-served")).toBe(`127.0.0.1:${pod!.port}`);
  expect(res.headers.get("x-session-token")).toBe(encodeSessionToken("live"));
});
