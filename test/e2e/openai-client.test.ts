import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { type Stack, startStack, waitFor } from "../helpers/stack.ts";

let stack: Stack;
let client: OpenAI;

beforeAll(async () => {
  stack = await startStack({
    pods: [
      // Real-time decoding (20 ms a token) so streaming can be seen chunk by chunk.
      { model: "facebook/opt-125m", loras: ["sql-lora"], timeScale: 1, prefillOverheadMs: 5 },
      { model: "facebook/opt-125m", loras: ["sql-lora"], timeScale: 1, prefillOverheadMs: 5 },
    ],
    settings: {
      catalog: {
        defaultOwner: "ml-platform",
        models: [{ id: "facebook/opt-125m", ownedBy: "meta", createdAt: "2022-05-03T00:00:00Z" }],
      },
    },
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

afterAll(() => stack.close());

describe("the official openai client through the gateway (real ports)", () => {
  test("chat", async () => {
    const res = await client.chat.completions.create({
      model: "facebook/opt-125m",
      messages: [{ role: "user", content: "Say hello" }],
      max_tokens: 4,
    });
    expect(res.object).toBe("chat.completion");
    expect(res.model).toBe("facebook/opt-125m");
    expect(res.choices[0]!.message.content!.split(" ").length).toBe(4);
    expect(res.usage!.completion_tokens).toBe(4);
  });

  test("chat streaming: chunks arrive one by one, not all at the end", async () => {
    const stream = await client.chat.completions.create({
      model: "sql-lora",
      messages: [{ role: "user", content: "Stream please" }],
      max_tokens: 8,
      stream: true,
      stream_options: { include_usage: true },
    });
    const arrivals: number[] = [];
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta.content;
      if (delta) {
        arrivals.push(performance.now());
        text += delta;
      }
      usage = chunk.usage ?? usage;
    }
    expect(arrivals.length).toBe(8);
    expect(text.trim().split(" ").length).toBe(8);
    expect(usage?.completion_tokens).toBe(8);
    // 7 inter-token gaps of 20 ms at the pod: a buffering proxy would deliver them together.
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThan(60);
  });

  test("completions, JSON and streaming", async () => {
    const res = await client.completions.create({
      model: "facebook/opt-125m",
      prompt: "Once upon",
      max_tokens: 3,
    });
    expect(res.object).toBe("text_completion");
    expect(res.choices[0]!.text.length).toBeGreaterThan(0);
    const stream = await client.completions.create({
      model: "facebook/opt-125m",
      prompt: "Once",
      max_tokens: 3,
      stream: true,
    });
    let n = 0;
    for await (const chunk of stream) if (chunk.choices[0]?.text) n++;
    expect(n).toBe(3);
  });

  test("models.list() and models.retrieve() with a slash in the id", async () => {
    await waitFor(async () => (await fetch(`${stack.url}/readyz`)).status === 200);
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual(["facebook/opt-125m", "sql-lora"]);
    const one = await client.models.retrieve("facebook/opt-125m");
    expect(one).toMatchObject({
      id: "facebook/opt-125m",
      object: "model",
      owned_by: "meta",
      created: 1651536000,
    });
    const lora = await client.models.retrieve("sql-lora");
    expect(lora.owned_by).toBe("ml-platform");
    const missing = await client.models.retrieve("facebook/missing").catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
  });

  test("bad input surfaces as the client's typed errors with the param", async () => {
    const missing = await client.chat.completions
      .create({ model: "facebook/opt-125m" } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OpenAI.BadRequestError);
    expect((missing as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("messages");
    const unknown = await client.chat.completions
      .create({ model: "nope", messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect((unknown as InstanceType<typeof OpenAI.NotFoundError>).code).toBe("model_not_found");
    const raw = await fetch(`${stack.url}/v1/chat/completions`, { method: "POST", body: "{oops" });
    expect(raw.status).toBe(400);
  });

  test("pod metrics are scraped and exported as pool gauges", async () => {
    await waitFor(() => stack.gateway.deps.endpoints.list().every((e) => e.metrics.updatedAt > 0));
    const text = await (await fetch(`${stack.url}/metrics`)).text();
    expect(text).toContain('inference_pool_ready_pods{name="default"} 2');
    expect(text).toMatch(/inference_pool_per_pod_queue_size\{name="default",model_server_pod="pod-0"\} \d/);
    expect(text).toContain("inference_objective_request_total");
  });
});
