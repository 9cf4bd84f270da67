import { describe, expect, test } from "bun:test";
import { createGateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { POOL, testConfig } from "../helpers/config.ts";
import { fakeUpstream } from "../helpers/fake-upstream.ts";

/**
 * Request, scheduler and prefix metrics as GIE v1.5.0 and llm-d v0.10 label them
 * (docs/metrics.md): `priority` on request_total from the InferenceObjective, the llm_d_epp_*
 * family carrying the same values with fairness and priority, running requests by
 * model_name only, plugin durations per extension point, scheduling attempts per picked pod,
 * and the prefix hit ratio / hit length as histograms observed per pick.
 */
const OBJECTIVE = `
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: { name: chat }
spec: { priority: 5, poolRef: { name: pool } }
`;

async function run() {
  let now = 1000;
  const usage = {
    prompt_tokens: 80,
    completion_tokens: 4,
    total_tokens: 84,
    prompt_tokens_details: { cached_tokens: 64 },
  };
  const upstream = fakeUpstream(() => Response.json({ choices: [], usage }));
  const gw = createGateway({
    config: testConfig(
      { pool: "pool", endpoints: [{ name: "pod-a:8000", address: "10.0.0.1:8000", models: ["m"] }] },
      POOL,
      OBJECTIVE,
    ),
    fetch: upstream.fetch,
    logger: silentLogger(),
    clock: { now: () => (now += 10) },
  });
  const prompt = "The same long system prompt, repeated so the prefix index has blocks. ".repeat(8);
  for (let i = 0; i < 2; i++)
    await (
      await gw.fetch(
        new Request("http://gw/v1/chat/completions", {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "x-gateway-inference-objective": "chat",
            "x-gateway-inference-fairness-id": "team-a",
          },
          body: JSON.stringify({ model: "m", messages: [{ role: "user", content: prompt }] }),
        }),
      )
    ).text();
  const text = await (await gw.fetch(new Request("http://gw/metrics"))).text();
  const value = (name: string, ...pairs: string[]) => {
    const line = text.split("\n").find((l) => l.startsWith(name) && pairs.every((p) => l.includes(p)));
    return line === undefined ? undefined : Number(line.split(" ").at(-1));
  };
  return { text, value };
}

describe("request, scheduler and prefix metrics under upstream's labels", () => {
  test("request_total carries the objective's priority; llm_d_epp_* counts the same with fairness and priority", async () => {
    const { value, text } = await run();
    expect(value("inference_objective_request_total{", 'model_name="m"', 'priority="5"')).toBe(2);
    expect(value("llm_d_epp_request_total{", 'fairness_id="team-a"', 'priority="5"')).toBe(2);
    expect(value("inference_objective_prompt_cached_tokens_sum{", 'model_name="m"')).toBe(128);
    expect(value("llm_d_epp_request_cached_tokens_sum{", 'priority="5"')).toBe(128);
    expect(value("inference_objective_output_tokens_sum{")).toBe(8);
    expect(value("llm_d_epp_request_output_tokens_sum{")).toBe(8);
    // A plain JSON answer: llm-d's TTFT is its whole duration, labelled streaming="false".
    expect(value("llm_d_epp_request_ttft_seconds_count{", 'streaming="false"')).toBe(2);
    expect(text).toMatch(/^inference_objective_running_requests\{model_name="m"\} 0$/m);
    expect(text).toContain('inference_objective_output_tokens_bucket{le="8192",');
    expect(text).not.toContain('inference_objective_output_tokens_bucket{le="16384",');
  });

  test("plugins are timed per extension point; attempts name the picked pod and port", async () => {
    const { value } = await run();
    expect(
      value("inference_extension_plugin_duration_seconds_count{", 'extension_point="Scorer"'),
    ).toBeGreaterThan(0);
    expect(value("inference_extension_plugin_duration_seconds_count{", 'extension_point="Picker"')).toBe(2);
    expect(value("llm_d_epp_plugin_duration_seconds_count{", 'extension_point="Picker"')).toBe(2);
    const attempt = ['status="success"', 'target_model_name="m"', 'port="8000"'];
    expect(value("inference_extension_scheduler_attempts_total{", ...attempt, 'pod_name="pod-a"')).toBe(2);
    expect(value("llm_d_epp_scheduler_attempts_total{", ...attempt, 'endpoint_name="pod-a"')).toBe(2);
  });

  test("the prefix hit ratio and hit length are histograms, one observation per pick", async () => {
    const { value } = await run();
    expect(value("inference_extension_prefix_indexer_hit_ratio_count")).toBe(2);
    // First pick: nothing cached (ratio 0); second: the whole prompt (ratio 1).
    expect(value("inference_extension_prefix_indexer_hit_ratio_bucket{", 'le="0"')).toBe(1);
    expect(value("inference_extension_prefix_indexer_hit_ratio_sum")).toBe(1);
    expect(value("inference_extension_prefix_indexer_hit_bytes_count")).toBe(2);
    expect(value("inference_extension_prefix_indexer_hit_bytes_sum")).toBeGreaterThan(0);
  });

  test("error_code: a pod's own status as its number, the gateway's own errors as GIE's canonical codes", async () => {
    const upstream = fakeUpstream(() => Response.json({ error: { message: "overloaded" } }, { status: 503 }));
    const gw = createGateway({
      config: testConfig({ endpoints: [{ name: "a", address: "10.0.0.1:8000", models: ["m"] }] }),
      fetch: upstream.fetch,
      logger: silentLogger(),
    });
    const chat = (model: string) =>
      gw.fetch(
        new Request("http://gw/v1/chat/completions", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
        }),
      );
    expect((await chat("m")).status).toBe(503);
    expect((await chat("nope")).status).toBe(404);
    const text = await (await gw.fetch(new Request("http://gw/metrics"))).text();
    expect(text).toContain(
      'inference_objective_request_error_total{model_name="m",target_model_name="m",error_code="503"} 1',
    );
    expect(text).toContain(
      'inference_objective_request_error_total{model_name="unknown",target_model_name="unknown",error_code="BadRequest"} 1',
    );
    expect(text).toMatch(/^llm_d_epp_request_error_total\{.*error_code="BadRequest"\} 1$/m);
  });
});
