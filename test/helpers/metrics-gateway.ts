import { seededRandom } from "../../src/clock.ts";
import type { FetchFn } from "../../src/deps.ts";
import { createGateway, type Gateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { POOL, testConfig } from "./config.ts";
import { fakeUpstream } from "./fake-upstream.ts";

/** `alias` is rewritten to `m`, so rewrite counters and target_model_name labels get values. */
const REWRITE = `
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: { name: alias }
spec:
  poolRef: { name: pool }
  rules: [{ matches: [{ model: { value: alias } }], targets: [{ modelRewrite: m }] }]
`;
/** Flow control on, so the flow-control series exist in /metrics. */
const FLOW = `
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
featureGates: [flowControl]
plugins: [{ type: concurrency-detector }]
`;

/**
 * The gateway the /metrics tests (golden exposition, GIE dashboard queries) drive: one
 * endpoint serving `m` behind `fetch`, the `alias` rewrite and flow control, a given clock
 * and a fixed seed, so every series they read is there and its values are deterministic.
 */
export function metricsGateway(fetch: FetchFn, now: () => number): Gateway {
  return createGateway({
    config: testConfig(
      { pool: "pool", endpoints: [{ name: "a", address: "10.0.0.1:8000", models: ["m"] }] },
      POOL,
      REWRITE,
      FLOW,
    ),
    fetch,
    logger: silentLogger(),
    clock: { now },
    random: seededRandom(1),
  });
}

/** A chat request from tenant-a with a prompt of `promptChars` characters, sent straight to the app. */
export function chatOn(gw: Gateway, promptChars: number) {
  return (model: string, stream = false) =>
    gw.fetch(
      new Request("http://gw/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json", "x-gateway-inference-fairness-id": "tenant-a" },
        body: JSON.stringify({
          model,
          stream,
          messages: [{ role: "user", content: "x".repeat(promptChars) }],
        }),
      }),
    );
}

/**
 * The golden /metrics test's pod: a JSON answer with usage for plain requests, an event
 * stream of two content events, a usage event and `[DONE]` for streamed ones.
 */
export function goldenUpstream() {
  const sse = [
    `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "a" } }] })}\n\n`,
    `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "b" } }] })}\n\n`,
    `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } })}\n\n`,
    "data: [DONE]\n\n",
  ].join("");
  return fakeUpstream((call) =>
    call.body["stream"]
      ? new Response(sse, { headers: { "content-type": "text/event-stream" } })
      : Response.json({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } }),
  );
}
