import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI, { toFile } from "openai";
import { type Stack, startStack, waitFor } from "../helpers/stack.ts";

/**
 * One gateway, three InferencePools (a chat model with a LoRA adapter on two pods, an
 * embedding model, a speech model), real loopback pods, the official openai client: every
 * request goes to the pool whose pods serve its (rewritten) model, with no route file.
 */
const pool = (name: string, app: string) => `
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: { name: ${name} }
spec: { selector: { matchLabels: { app: ${app} } }, targetPorts: [{ number: 8000 }] }
`;
const alias = (name: string, poolName: string, from: string, to: string, created: string) => `
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: { name: ${name}, creationTimestamp: "${created}" }
spec:
  poolRef: { name: ${poolName} }
  rules: [{ matches: [{ model: { type: Exact, value: ${from} } }], targets: [{ modelRewrite: ${to} }] }]
`;

const CHAT = "facebook/opt-125m";
const EMBED = "BAAI/bge-small-en-v1.5";
const SPEECH = "openai/whisper-large-v3";
const APPS = ["chat", "chat", "embed", "speech"];

let stack: Stack;
let client: OpenAI;

beforeAll(async () => {
  stack = await startStack({
    pods: [
      { model: CHAT, loras: ["sql-lora"] },
      { model: CHAT, loras: ["sql-lora"] },
      { model: EMBED, runner: "pooling" },
      { model: SPEECH },
    ],
    podLabels: (i) => ({ app: APPS[i]! }),
    yaml: [
      pool("chat", "chat"),
      pool("embed", "embed"),
      pool("speech", "speech"),
      alias("assistant", "chat", "assistant", CHAT, "2026-01-01T00:00:00Z"),
      alias("vectors", "embed", "vectors", EMBED, "2026-02-01T00:00:00Z"),
      // The same alias in two pools: the first pool in config order takes it.
      alias("contested-chat", "chat", "default-model", CHAT, "2026-03-01T00:00:00Z"),
      alias("contested-embed", "embed", "default-model", EMBED, "2026-03-01T00:00:00Z"),
    ],
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

afterAll(() => stack.close());

describe("many pools behind one gateway (real ports, the openai client)", () => {
  test("/v1/models lists every pool's models and aliases, once each", async () => {
    const ids = (await client.models.list()).data.map((m) => m.id);
    expect(ids).toEqual(["assistant", EMBED, CHAT, "default-model", SPEECH, "sql-lora", "vectors"].sort());
  });

  test("chat, through an alias of the chat pool and by a LoRA adapter", async () => {
    const viaAlias = await client.chat.completions.create({
      model: "assistant",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 3,
    });
    expect(viaAlias.model).toBe(CHAT);
    const viaAdapter = await client.chat.completions.create({
      model: "sql-lora",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 3,
    });
    expect(viaAdapter.model).toBe("sql-lora");
  });

  test("embeddings go to the embedding pool, by name and by its own alias", async () => {
    const res = await client.embeddings.create({ model: "vectors", input: ["one", "two"] });
    expect(res.model).toBe(EMBED);
    expect(res.data.length).toBe(2);
    expect(res.data[0]!.embedding.length).toBeGreaterThan(1);
    expect(res.usage.prompt_tokens).toBeGreaterThan(0);
    // The pooling pod would refuse chat: a chat model's request never reaches it.
    const direct = await client.embeddings.create({ model: EMBED, input: "three" });
    expect(direct.model).toBe(EMBED);
  });

  test("a model two pools claim goes to the first pool in config order", async () => {
    const res = await client.chat.completions.create({
      model: "default-model",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 2,
    });
    expect(res.model).toBe(CHAT);
  });

  test("a model no pool serves is a 404 naming it", async () => {
    const err = await client.embeddings
      .create({ model: "no-such-model", input: "x" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).message).toContain("'no-such-model'");
  });

  test("responses: each turn continues the last through previous_response_id, on the pod that holds it", async () => {
    // Two chat pods keep stored responses in their own memory: a turn sent to the other
    // pod would be a 404, so five turns in a row succeed only if each follows its response.
    let previous: string | undefined;
    for (let turn = 0; turn < 5; turn++) {
      const res = await client.responses.create({
        model: CHAT,
        input: `turn ${turn}`,
        max_output_tokens: 4,
        ...(previous ? { previous_response_id: previous } : {}),
      });
      expect(res.object).toBe("response");
      previous = res.id;
    }
    const fetched = await client.responses.retrieve(previous!);
    expect(fetched.id).toBe(previous!);
  });

  test("responses streamed: typed events end with response.completed, whose id the next turn continues", async () => {
    const stream = await client.responses.create({
      model: "assistant",
      input: "stream please",
      max_output_tokens: 5,
      stream: true,
    });
    const types: string[] = [];
    let id: string | undefined;
    let text = "";
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "response.output_text.delta") text += event.delta;
      if (event.type === "response.completed") id = event.response.id;
    }
    expect(types[0]).toBe("response.created");
    expect(types.at(-1)).toBe("response.completed");
    expect(text.length).toBeGreaterThan(0);
    for (let turn = 0; turn < 3; turn++) {
      const next = await client.responses.create({
        model: "assistant",
        input: "and then?",
        max_output_tokens: 3,
        previous_response_id: id!,
      });
      id = next.id;
    }
  });

  test("a transcription upload goes to the speech pool: the model is a form field", async () => {
    const file = await toFile(new Uint8Array(4096).fill(7), "clip.wav", { type: "audio/wav" });
    const res = await client.audio.transcriptions.create({ file, model: SPEECH });
    expect(typeof res.text).toBe("string");
  });

  test("/readyz and /metrics say each pool's state", async () => {
    await waitFor(async () => (await fetch(`${stack.url}/readyz`)).status === 200);
    const ready = (await (await fetch(`${stack.url}/readyz`)).json()) as {
      pools: { name: string; ready: boolean; endpoints: number }[];
    };
    expect(ready.pools.map((p) => [p.name, p.endpoints])).toEqual([
      ["chat", 2],
      ["embed", 1],
      ["speech", 1],
    ]);
    const text = await (await fetch(`${stack.url}/metrics`)).text();
    for (const name of ["chat", "embed", "speech"])
      expect(text).toContain(`inference_pool_ready_pods{name="${name}"}`);
  });
});
