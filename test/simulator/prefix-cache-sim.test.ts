import { afterEach, describe, expect, test } from "bun:test";
import type { Simulator } from "../../src/simulator/index.ts";
import { FakeTime } from "../helpers/fake-time.ts";
import { fakeDurations } from "./fake-run.ts";
import { fastSim, metrics, post } from "./helpers.ts";

let sim: Simulator;
afterEach(() => sim?.close());

const BLOCK = 16 * 4; // characters per 16-token block

/** The cached tokens, and the fake milliseconds the answer took when `time` drives the pod. */
async function complete(s: Simulator, prompt: string, time?: FakeTime) {
  const answer = post(s, "/v1/completions", { model: "m", prompt, max_tokens: 1 }).then((r) => r.json());
  const [ms] = time ? await fakeDurations(time, [answer]) : [0];
  const body = await answer;
  return { cached: body.usage.prompt_tokens_details.cached_tokens as number, ms: ms! };
}

describe("prefix cache", () => {
  test("a repeated prompt hits the cache and is answered faster", async () => {
    // 4000 prompt tokens x 1 ms x 0.05 = 200 ms of prefill when uncached, ~1 ms when cached.
    const time = new FakeTime();
    sim = fastSim({
      prefillMsPerToken: 1,
      prefillOverheadMs: 1,
      timeScale: 0.05,
      clock: time.clock,
      setTimer: time.setTimer,
    });
    const prompt = "The quick brown fox jumps. ".repeat(600).slice(0, 16000);
    const first = await complete(sim, prompt, time);
    const second = await complete(sim, prompt, time);
    expect(first.ms).toBeGreaterThanOrEqual(200);
    expect(first.cached).toBe(0);
    expect(second.cached).toBeGreaterThan(3900);
    expect(second.cached).toBeLessThan(4000); // the last block is always recomputed
    expect(second.ms).toBeLessThan(first.ms / 2);
    expect(sim.stats()).toMatchObject({ prefixQueries: 8000, prefixHits: second.cached });
    const m = await metrics(sim);
    expect(m.get('vllm:prefix_cache_queries_total{model_name="m"}')).toBe(8000);
    expect(m.get('vllm:prefix_cache_hits_total{model_name="m"}')).toBe(second.cached);
  });

  test("only the shared leading blocks count", async () => {
    sim = fastSim();
    const shared = "s".repeat(BLOCK * 3);
    await complete(sim, `${shared}${"a".repeat(BLOCK * 2)}`);
    expect((await complete(sim, `${shared}${"b".repeat(BLOCK * 2)}`)).cached).toBe(48);
    expect((await complete(sim, `x${shared}`)).cached).toBe(0);
  });

  test("the LRU evicts old prefixes when the cache is full", async () => {
    sim = fastSim({ numGpuBlocks: 8 });
    const a = "a".repeat(BLOCK * 4) + "tail";
    await complete(sim, a);
    expect((await complete(sim, a)).cached).toBe(64);
    await complete(sim, "b".repeat(BLOCK * 8) + "tail"); // 8 new blocks push all of A out
    expect((await complete(sim, a)).cached).toBe(0);
  });

  test("an adapter does not share the base model's cache entries", async () => {
    sim = fastSim({ loras: ["a"] });
    const prompt = "p".repeat(BLOCK * 4);
    await complete(sim, prompt);
    const other = await (await post(sim, "/v1/completions", { model: "a", prompt, max_tokens: 1 })).json();
    expect(other.usage.prompt_tokens_details.cached_tokens).toBe(0);
  });
});
