import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI, { toFile } from "openai";
import { serveBun } from "../../src/runtime/serve-bun.ts";
import { type RunningSimulator, startSimulators } from "../../src/simulator/index.ts";

let pods: RunningSimulator[];
let chatClient: OpenAI;
let embedClient: OpenAI;

beforeAll(async () => {
  const common = { jitter: 0, timeScale: 0.02, hostname: "127.0.0.1", port: 0 };
  pods = await startSimulators(serveBun, [
    { ...common, model: "llama", loras: ["sql"] },
    { ...common, model: "bge", runner: "pooling", embeddingSize: 32 },
  ]);
  const client = (i: number) =>
    new OpenAI({ baseURL: `http://127.0.0.1:${pods[i]!.port}/v1`, apiKey: "unused", maxRetries: 0 });
  chatClient = client(0);
  embedClient = client(1);
});

afterAll(async () => {
  await Promise.all(pods.map((p) => p.close()));
});

describe("the new routes on real ports, with the official openai client", () => {
  test("pods say which runner they have", () => {
    expect(pods.map((p) => p.runner)).toEqual(["generate", "pooling"]);
  });

  test("embeddings: the client's default base64 decodes to unit vectors; dimensions honoured", async () => {
    const res = await embedClient.embeddings.create({ model: "bge", input: ["one text", "another text"] });
    expect(res.data).toHaveLength(2);
    for (const d of res.data) {
      expect(d.embedding).toHaveLength(32);
      expect(Math.hypot(...d.embedding)).toBeCloseTo(1, 5);
    }
    expect(res.usage.prompt_tokens).toBe(5); // 8 + 12 characters
    const short = await embedClient.embeddings.create({ model: "bge", input: "one text", dimensions: 8 });
    expect(short.data[0]!.embedding).toHaveLength(8);
  });

  test("a chat request to the pooling pod is a 400 the client raises", async () => {
    const err = await embedClient.chat.completions
      .create({ model: "bge", messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as Error).message).toContain("does not support Chat Completions API");
  });

  test("responses: JSON, then a streamed follow-up with previous_response_id, then retrieve", async () => {
    const first = await chatClient.responses.create({
      model: "sql",
      input: "List the tables.",
      max_output_tokens: 4,
    });
    expect(first.output_text).toBe("hello world simulated tokens");
    expect(first.usage?.output_tokens).toBe(4);
    const stream = await chatClient.responses.create({
      model: "sql",
      input: "And their sizes?",
      previous_response_id: first.id,
      max_output_tokens: 2,
      stream: true,
    });
    const types: string[] = [];
    let done: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "response.completed") done = event.response;
    }
    expect(types[0]).toBe("response.created");
    expect(types.filter((t) => t === "response.output_text.delta")).toHaveLength(2);
    expect(done?.previous_response_id).toBe(first.id);
    expect(done!.usage!.input_tokens).toBeGreaterThan(first.usage!.input_tokens);
    const again = await chatClient.responses.retrieve(done!.id);
    expect(again.output_text).toBe("hello world");
    const missing = await chatClient.responses.retrieve("resp_nothere").catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
  });

  test("transcriptions: a multipart upload, JSON and streamed", async () => {
    const audio = await toFile(new Uint8Array(32_000), "speech.raw", { type: "application/octet-stream" });
    const res = await chatClient.audio.transcriptions.create({ model: "llama", file: audio });
    expect(res.text).toBe("hello world simulated");
    const stream = await chatClient.audio.transcriptions.create({
      model: "llama",
      file: await toFile(new Uint8Array(32_000), "speech.raw"),
      stream: true,
    });
    let text = "";
    for await (const event of stream) {
      const chunk = event as unknown as { choices?: Array<{ delta?: { content?: string } }> };
      text += chunk.choices?.[0]?.delta?.content ?? "";
    }
    expect(text).toBe("hello world simulated");
  });

  test("tokenize and messages over HTTP", async () => {
    const base = `http://127.0.0.1:${pods[0]!.port}`;
    const tok = await fetch(`${base}/tokenize`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "llama", prompt: "abcdefgh" }),
    });
    expect((await tok.json()).count).toBe(2);
    const msg = await fetch(`${base}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "llama", max_tokens: 1, messages: [{ role: "user", content: "hi" }] }),
    });
    expect((await msg.json()).content[0].text).toBe("hello");
  });
});
