import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { serveBun } from "../../src/runtime/serve-bun.ts";
import { type RunningSimulator, startSimulators } from "../../src/simulator/index.ts";
import { samples, waitFor } from "./helpers.ts";

let pods: RunningSimulator[];
const base = (i: number) => `http://127.0.0.1:${pods[i]!.port}`;

beforeAll(async () => {
  const common = { jitter: 0, timeScale: 0.02, hostname: "127.0.0.1", port: 0 };
  pods = await startSimulators(serveBun, [
    { ...common, model: "llama", loras: ["sql"] },
    { ...common, model: "qwen", maxNumSeqs: 1 },
  ]);
});

afterAll(async () => {
  await Promise.all(pods.map((p) => p.close()));
});

describe("simulators on real ports (Bun)", () => {
  test("each pod listens on its own port and serves its own model", async () => {
    expect(pods.map((p) => p.model)).toEqual(["llama", "qwen"]);
    expect(pods[0]!.port).not.toBe(pods[1]!.port);
    expect((await fetch(`${base(0)}/health`)).status).toBe(200);
    const models = await (await fetch(`${base(1)}/v1/models`)).json();
    expect(models.data.map((m: { id: string }) => m.id)).toEqual(["qwen"]);
    const text = await (await fetch(`${base(0)}/metrics`)).text();
    expect(samples(text).get('vllm:num_requests_running{model_name="llama"}')).toBe(0);
  });

  test("the official openai client works, JSON and streaming", async () => {
    const client = new OpenAI({ baseURL: `${base(0)}/v1`, apiKey: "unused", maxRetries: 0 });
    const done = await client.chat.completions.create({
      model: "sql",
      messages: [{ role: "user", content: "SELECT 1" }],
      max_tokens: 4,
    });
    expect(done.choices[0]!.message.content).toBe("hello world simulated tokens");
    expect(done.usage!.completion_tokens).toBe(4);

    const stream = await client.chat.completions.create({
      model: "llama",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 3,
      stream: true,
      stream_options: { include_usage: true },
    });
    let content = "";
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta.content ?? "";
      usage = chunk.usage ?? usage;
    }
    expect(content).toBe("hello world simulated");
    expect(usage?.completion_tokens).toBe(3);

    const completion = await client.completions.create({ model: "llama", prompt: "abc", max_tokens: 2 });
    expect(completion.choices[0]!.text).toBe("hello world");
  });

  test("SSE frames arrive over the network before the request finishes", async () => {
    const res = await fetch(`${base(1)}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      // 200 tokens x 20 ms x 0.02 scale: ~80 ms of decode after the first token
      body: JSON.stringify({
        model: "qwen",
        messages: [{ role: "user", content: "hi" }],
        max_tokens: 200,
        stream: true,
      }),
    });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toStartWith("data: ");
    expect(pods[1]!.simulator.stats().completed).toBe(0);
    await reader.cancel();
    await waitFor(() => pods[1]!.simulator.stats().aborted === 1);
  });

  test("a client disconnect aborts the request on the pod", async () => {
    const sim = pods[1]!.simulator;
    const ctl = new AbortController();
    const pending = fetch(`${base(1)}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "qwen", messages: [{ role: "user", content: "hi" }], max_tokens: 5000 }),
      signal: ctl.signal,
    });
    await waitFor(() => sim.stats().running === 1);
    const abortedBefore = sim.stats().aborted;
    ctl.abort();
    await pending.catch(() => undefined);
    await waitFor(() => sim.stats().aborted === abortedBefore + 1);
    expect(sim.stats()).toMatchObject({ running: 0, waiting: 0, kvBlocksInUse: 0 });
  });
});
