import { afterEach, describe, expect, test } from "bun:test";
import type { Simulator } from "../../src/simulator/index.ts";
import { get, holdingSim, post, say, waitFor } from "./helpers.ts";

let sim: Simulator;
afterEach(() => sim?.close());

function chatAs(model: string, signal?: AbortSignal) {
  return post(
    sim,
    "/v1/chat/completions",
    { model, messages: say("hi"), max_tokens: 1 },
    signal ? { signal } : {},
  );
}

async function loraLine(): Promise<string> {
  const text = await (await get(sim, "/metrics")).text();
  const line = text.split("\n").find((l) => l.startsWith("vllm:lora_requests_info{"));
  if (!line) throw new Error("no vllm:lora_requests_info sample");
  return line;
}

describe("LoRA adapters", () => {
  test("publishes lora_requests_info with a Unix-seconds timestamp", async () => {
    sim = holdingSim({ loras: ["a", "b"], maxLoras: 4 });
    const before = Date.now() / 1000;
    void chatAs("b");
    void chatAs("a");
    void chatAs("m");
    await waitFor(() => sim.stats().running === 3);
    const line = await loraLine();
    expect(line).toStartWith(
      'vllm:lora_requests_info{max_lora="4",running_lora_adapters="a,b",waiting_lora_adapters=""} ',
    );
    const value = Number(line.split(" ").at(-1));
    expect(value).toBeGreaterThanOrEqual(Math.floor(before));
    expect(value).toBeLessThan(Date.now() / 1000 + 1);
  });

  test("at most maxLoras adapters run; a blocked adapter waits without blocking others", async () => {
    sim = holdingSim({ loras: ["a", "b", "c"], maxLoras: 2, maxNumSeqs: 10 });
    const abortA = new AbortController();
    void chatAs("a", abortA.signal);
    void chatAs("b");
    void chatAs("c"); // a third adapter: must wait
    void chatAs("a"); // already loaded: runs
    void chatAs("m"); // base model: runs
    await waitFor(() => sim.stats().running + sim.stats().waiting === 5);
    expect(sim.stats()).toMatchObject({ running: 4, waiting: 1 });
    expect(await loraLine()).toContain('max_lora="2",running_lora_adapters="a,b",waiting_lora_adapters="c"');

    abortA.abort(); // one "a" request leaves, but another "a" still holds the adapter
    await waitFor(() => sim.stats().aborted === 1);
    expect(sim.stats()).toMatchObject({ running: 3, waiting: 1 });
  });

  test("a waiting adapter starts once an adapter slot frees", async () => {
    sim = holdingSim({ loras: ["a", "b"], maxLoras: 1 });
    const abortA = new AbortController();
    void chatAs("a", abortA.signal);
    void chatAs("b");
    await waitFor(() => sim.stats().running + sim.stats().waiting === 2);
    expect(sim.stats()).toMatchObject({ running: 1, waiting: 1 });
    abortA.abort();
    await waitFor(() => sim.stats().running === 1 && sim.stats().waiting === 0);
    expect(await loraLine()).toContain('running_lora_adapters="b",waiting_lora_adapters=""');
  });

  test("a pod without adapters omits the series, as vLLM does", async () => {
    sim = holdingSim();
    const text = await (await get(sim, "/metrics")).text();
    expect(text).not.toContain("vllm:lora_requests_info");
  });
});
