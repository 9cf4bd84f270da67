import { afterEach, describe, expect, test } from "bun:test";
import type { Simulator } from "../../src/simulator/index.ts";
import { chat, fastSim, get, samples, say } from "./helpers.ts";

let sim: Simulator;
afterEach(() => sim?.close());

const GOLDEN = new URL("./golden/metrics-idle.txt", import.meta.url);

/** Checks the text format rules a Prometheus scraper relies on; returns the families' types. */
function checkExposition(text: string): Map<string, string> {
  expect(text.endsWith("\n")).toBe(true);
  const types = new Map<string, string>();
  const helps = new Set<string>();
  for (const line of text.trimEnd().split("\n")) {
    const meta = /^# (HELP|TYPE) (\S+) (.+)$/.exec(line);
    if (meta) {
      if (meta[1] === "HELP") helps.add(meta[2]!);
      else types.set(meta[2]!, meta[3]!);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_]\w*="(?:[^"\\]|\\.)*",?)*\})? (\S+)$/.exec(
      line,
    );
    expect(sample, `bad sample line: ${line}`).not.toBeNull();
    const name = sample![1]!;
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, "");
    expect(types.has(family), `no # TYPE before ${name}`).toBe(true);
    expect(helps.has(family), `no # HELP before ${name}`).toBe(true);
    expect(Number.isNaN(Number(sample![3]))).toBe(false);
  }
  return types;
}

function checkHistogram(m: Map<string, number>, name: string): number {
  const buckets = [...m.entries()].filter(([k]) => k.startsWith(`${name}_bucket{`)).map(([, v]) => v);
  expect(buckets.length).toBeGreaterThan(1);
  for (let i = 1; i < buckets.length; i++) expect(buckets[i]!).toBeGreaterThanOrEqual(buckets[i - 1]!);
  const count = m.get(`${name}_count{model_name="m"}`)!;
  expect(m.get(`${name}_bucket{model_name="m",le="+Inf"}`)).toBe(count);
  expect(m.get(`${name}_sum{model_name="m"}`)!).toBeGreaterThanOrEqual(0);
  return count;
}

describe("/metrics", () => {
  test("an idle pod matches the golden exposition", async () => {
    sim = fastSim();
    const res = await get(sim, "/metrics");
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await res.text();
    if (process.env.UPDATE_GOLDEN) await Bun.write(GOLDEN, text);
    expect(text).toBe(await Bun.file(GOLDEN).text());
  });

  test("is well-formed and counts tokens, requests and latencies", async () => {
    sim = fastSim({ loras: ["a"] });
    const usages: Array<{ prompt_tokens: number; completion_tokens: number }> = [];
    for (const max_tokens of [3, 5]) {
      usages.push((await (await chat(sim, { messages: say("count me"), max_tokens })).json()).usage);
    }
    usages.push((await (await chat(sim, { model: "a", messages: say("x"), max_tokens: 2 })).json()).usage);
    const text = await (await get(sim, "/metrics")).text();
    const types = checkExposition(text);
    expect(types.get("vllm:time_to_first_token_seconds")).toBe("histogram");
    expect(types.get("vllm:prompt_tokens_total")).toBe("counter");
    expect(types.get("vllm:num_requests_waiting")).toBe("gauge");
    const m = samples(text);
    const sum = (k: "prompt_tokens" | "completion_tokens") => usages.reduce((a, u) => a + u[k], 0);
    expect(m.get('vllm:prompt_tokens_total{model_name="m"}')).toBe(sum("prompt_tokens"));
    expect(m.get('vllm:generation_tokens_total{model_name="m"}')).toBe(sum("completion_tokens"));
    expect(m.get('vllm:request_success_total{model_name="m",finished_reason="length"}')).toBe(3);
    expect(m.get('vllm:request_success_total{model_name="m",finished_reason="abort"}')).toBe(0);
    expect(m.get('vllm:cache_config_info{block_size="16",num_gpu_blocks="2048",model_name="m"}')).toBe(1);
    expect(checkHistogram(m, "vllm:time_to_first_token_seconds")).toBe(3);
    expect(checkHistogram(m, "vllm:e2e_request_latency_seconds")).toBe(3);
  });

  test("legacyKvMetric adds vllm:gpu_cache_usage_perc", async () => {
    sim = fastSim();
    expect(await (await get(sim, "/metrics")).text()).not.toContain("gpu_cache_usage_perc");
    sim.close();
    sim = fastSim({ legacyKvMetric: true });
    const m = samples(await (await get(sim, "/metrics")).text());
    expect(m.get('vllm:gpu_cache_usage_perc{model_name="m"}')).toBe(0);
    expect(m.get('vllm:kv_cache_usage_perc{model_name="m"}')).toBe(0);
  });

  test("name[] parameters give those samples only, with their families' HELP and TYPE (vLLM's prometheus_client)", async () => {
    sim = fastSim();
    const full = await (await get(sim, "/metrics")).text();
    const q = ["vllm:num_requests_waiting", "vllm:kv_cache_usage_perc", "vllm:nope"]
      .map((n) => `name%5B%5D=${encodeURIComponent(n)}`)
      .join("&");
    const text = await (await get(sim, `/metrics?${q}`)).text();
    checkExposition(text);
    expect([...samples(text).keys()]).toEqual([
      'vllm:num_requests_waiting{model_name="m"}',
      'vllm:kv_cache_usage_perc{model_name="m"}',
    ]);
    // The same lines as the full page holds for them, in its order.
    const lines = text.trimEnd().split("\n");
    expect(full.split("\n").filter((l) => lines.includes(l))).toEqual(lines);
    expect(await (await get(sim, "/metrics?name%5B%5D=vllm%3Anope")).text()).toBe("");
  });

  test("label values are escaped", async () => {
    sim = fastSim({ model: 'we"ird\\name' });
    const text = await (await get(sim, "/metrics")).text();
    expect(text).toContain('model_name="we\\"ird\\\\name"');
    checkExposition(text);
  });
});
