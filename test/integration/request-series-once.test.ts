import { expect, test } from "bun:test";
import { silentLogger } from "../../src/log.ts";
import { chatRequest, jsonGateway } from "../helpers/json-gateway.ts";

/**
 * Issue 19, sixth pass: a forwarded request's series (its label lookups: model pair,
 * priority, fairness id) is resolved once, by forward, and reused at the scope's end for the
 * same target; requests refused before forward still resolve theirs there. The counts are
 * the ones /metrics showed before.
 */
test("the request series is resolved once per forwarded request, and counted as before", async () => {
  const gw = jsonGateway(1, silentLogger());
  const metrics = gw.deps.metrics;
  const resolve = metrics.series.bind(metrics);
  let calls = 0;
  metrics.series = (...args) => {
    calls++;
    return resolve(...args);
  };
  const post = (model: string) => gw.fetch(chatRequest(model));
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
