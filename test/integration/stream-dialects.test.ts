import { describe, expect, test } from "bun:test";
import { seededRandom } from "../../src/clock.ts";
import { createGateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { POOL, testConfig } from "../helpers/config.ts";
import { fakeUpstream } from "../helpers/fake-upstream.ts";

// The Responses API's and Anthropic's streams through the whole gateway: usage recorded
// from their own events, `model` renamed where each carries it, nothing else touched.
const ENDPOINTS = [{ name: "pod", address: "10.0.0.1:8000", models: ["m"] }];
const ALIAS = `
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: { name: friendly, creationTimestamp: "2025-03-01T10:00:00Z" }
spec:
  poolRef: { group: inference.networking.k8s.io, kind: InferencePool, name: pool }
  rules:
    - matches: [{ model: { type: Exact, value: friendly } }]
      targets: [{ modelRewrite: m, weight: 100 }]
`;
const ev = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
const streams: Record<string, (model: string) => string> = {
  "/v1/responses": (model) =>
    [
      ev("response.created", { response: { id: "resp_1", model, status: "in_progress" } }),
      ev("response.output_text.delta", { delta: "Hel" }),
      ev("response.output_text.delta", { delta: "lo" }),
      ev("response.completed", {
        response: { id: "resp_1", model, status: "completed", usage: { input_tokens: 11, output_tokens: 2 } },
      }),
    ].join(""),
  "/v1/messages": (model) =>
    [
      ev("message_start", { message: { id: "msg_1", model, usage: { input_tokens: 11, output_tokens: 1 } } }),
      ev("content_block_delta", { index: 0, delta: { type: "text_delta", text: "Hel" } }),
      ev("content_block_delta", { index: 0, delta: { type: "text_delta", text: "lo" } }),
      ev("message_delta", { delta: { stop_reason: "end_turn" }, usage: { output_tokens: 2 } }),
      ev("message_stop", {}),
    ].join(""),
};
const bodies: Record<string, object> = {
  "/v1/responses": { model: "friendly", input: "Hi", stream: true },
  "/v1/messages": {
    model: "friendly",
    max_tokens: 8,
    messages: [{ role: "user", content: "Hi" }],
    stream: true,
  },
};

describe("Responses and Messages streams through the gateway", () => {
  for (const path of Object.keys(streams)) {
    test(`${path}: usage from the dialect's events, the alias shown, no stream_options sent`, async () => {
      const upstream = fakeUpstream(
        (call) =>
          new Response(streams[path]!(String(call.body["model"])), {
            headers: { "content-type": "text/event-stream" },
          }),
      );
      const gw = createGateway({
        config: testConfig({ endpoints: ENDPOINTS, responseModel: "requested" }, POOL, ALIAS),
        fetch: upstream.fetch,
        logger: silentLogger(),
        random: seededRandom(1),
      });
      const res = await gw.fetch(
        new Request(`http://gw${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
          body: JSON.stringify(bodies[path]),
        }),
      );
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(upstream.calls[0]!.body["model"]).toBe("m");
      expect(upstream.calls[0]!.body["stream_options"]).toBeUndefined();
      expect(text).not.toContain('"model":"m"');
      expect(text).toBe(streams[path]!("friendly"));
      const metrics = await gw.deps.metrics.registry.metrics();
      const sum = (name: string) =>
        Number(
          metrics
            .split("\n")
            .find((l) => l.startsWith(`${name}_sum{`) && l.includes('model_name="friendly"'))
            ?.split(" ")
            .at(-1),
        );
      expect(sum("inference_objective_input_tokens")).toBe(11);
      expect(sum("inference_objective_output_tokens")).toBe(2);
      await gw.stop();
    });
  }
});
