import { afterEach, describe, expect, test } from "bun:test";
import type { Simulator } from "../../src/simulator/index.ts";
import { fastSim, holdingSim, metrics, post, waitFor } from "./helpers.ts";

let sim: Simulator;
afterEach(() => sim?.close());

const KV = 'vllm:kv_cache_usage_perc{model_name="m"}';

function complete(s: Simulator, promptChars: number, maxTokens = 1) {
  return post(s, "/v1/completions", { model: "m", prompt: "k".repeat(promptChars), max_tokens: maxTokens });
}

describe("KV cache usage", () => {
  test("counts ceil(tokens / blockSize) per running request over numGpuBlocks", async () => {
    sim = holdingSim({ numGpuBlocks: 100 });
    void complete(sim, 4 * 40); // 40 tokens -> 3 blocks
    void complete(sim, 4 * 16); // 16 tokens -> 1 block
    await waitFor(() => sim.stats().running === 2);
    expect(sim.stats().kvBlocksInUse).toBe(4);
    expect((await metrics(sim)).get(KV)).toBeCloseTo(0.04, 10);
  });

  test("is 0 when idle, even with cached blocks", async () => {
    sim = fastSim({ numGpuBlocks: 100 });
    await (await complete(sim, 4 * 64)).json();
    expect(sim.stats().kvBlocksInUse).toBe(0);
    expect((await metrics(sim)).get(KV)).toBe(0);
  });

  test("grows with generated tokens during decode", async () => {
    sim = fastSim({ numGpuBlocks: 100, interTokenMs: 1000, timeScale: 0.05 });
    const ctl = new AbortController();
    const body = { model: "m", prompt: "k".repeat(4 * 16), max_tokens: 40 }; // 1 prompt block, +1 per 16 tokens
    const pending = post(sim, "/v1/completions", body, { signal: ctl.signal });
    await waitFor(() => sim.stats().kvBlocksInUse >= 2);
    expect(sim.stats()).toMatchObject({ running: 1, completed: 0 });
    ctl.abort();
    await pending.catch(() => undefined);
    expect(sim.stats().kvBlocksInUse).toBe(0);
  });

  test("is clamped to 1", async () => {
    sim = holdingSim({ numGpuBlocks: 2 });
    void complete(sim, 4 * 100); // 7 blocks alone on an empty pod: admitted anyway
    await waitFor(() => sim.stats().running === 1);
    expect(sim.stats().kvBlocksInUse).toBe(7);
    expect((await metrics(sim)).get(KV)).toBe(1);
  });

  test("a request whose prompt blocks do not fit waits for free blocks", async () => {
    sim = holdingSim({ numGpuBlocks: 10, maxNumSeqs: 5 });
    void complete(sim, 4 * 16 * 6); // 6 blocks
    void complete(sim, 4 * 16 * 6); // 6 more do not fit in the 4 left
    await waitFor(() => sim.stats().running + sim.stats().waiting === 2);
    expect(sim.stats()).toMatchObject({ running: 1, waiting: 1, kvBlocksInUse: 6 });
  });
});
