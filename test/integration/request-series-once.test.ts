import { expect, test } from "bun:test";
import { parseConfig } from "../../src/config/load.ts";
import { createGateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";

/**
 * Issue 19, sixth pass: a forwarded request's series (its label lookups: model pair,
 * priority, fairness id) is resolved once, by forward, and reused at the scope's end for the
 * same target; requests refused before forward still resolve theirs there. The counts are
 * the ones /metrics showed before.
 */
test("the request series is resolved once per forwarded request, and counted as before", async () => {
  const completion = JSON.stringify({
    id: "c",
    object: "chat.completion",
    model: "m",
    choices: [{ index: 0, message: { role: "assistant", content: "Hi" }, finish_reason: "stop" }],
    usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
  });
  const yaml = [
    "apiVersion: gateway.inference.dev/v1alpha1",
    "kind: GatewayConfig",
    "endpoints:",
    '  - { name: pod-0, address: "127.0.0.1:1", models: [m] }',
  ].join("\n");
  const gw = createGateway({
    config: parseConfig(yaml, "series.yaml"),
    logger: silentLogger(),
    fetch: async () => new Response(completion, { headers: { "content-type": "application/json" } }),
  });
  const metrics = gw.deps.metrics;
  const resolve = metrics.series.bind(metrics);
  let calls = 0;
  metrics.series = (...args) => {
    calls++;
    return resolve(...args);
  };
  const post = (model: string) =>
    gw.fetch(
      new Request("http://gw/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model, messages: [{ role: "user", content: "Hello" }] }),
      }),
    );
  for (let i = 0; i < 3; i++) expect((await post("m")).status).toBe(200);
  expect(calls).toBe(3);
  // Refused before forward (no pool serves it): resolved at the scope's end, as before.
  expect((await post("nope")).status).toBe(404);
  expect(calls).toBe(4);
  const text = await (await gw.fetch(new Request("http://gw/metrics"))).text();
  expect(text).toMatch(
    /inference_objective_request_total\{model_name="m",target_model_name="m",priority="0"\} 3\b/,
  );
  expect(text).toMatch(/inference_objective_running_requests\{model_name="m"\} 0\b/);
  await gw.stop();
});
