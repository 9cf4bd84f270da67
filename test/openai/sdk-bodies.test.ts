import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI, { toFile } from "openai";
import type { InferenceRequest } from "../../src/request.ts";
import { parseApp } from "./parse-app.ts";

/**
 * What the official openai client really sends, over a real loopback port, parses as the
 * route table says: JSON bodies, and the transcription form with its file part.
 */
const seen: InferenceRequest[] = [];
// An answer every SDK method below accepts (the SDKs post-process `output` and `data`).
const answer = { id: "resp_1", object: "response", output: [], data: [], text: "" };
let server: ReturnType<typeof Bun.serve>;
let client: OpenAI;

beforeAll(() => {
  const app = parseApp({ seen, answer });
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch });
  client = new OpenAI({ baseURL: `http://127.0.0.1:${server.port}/v1`, apiKey: "unused", maxRetries: 0 });
});

afterAll(() => server.stop(true));

const last = () => seen.at(-1)!;

describe("the openai client's bodies parse on every route it has", () => {
  test("embeddings", async () => {
    await client.embeddings.create({ model: "e5", input: ["a", "b"] });
    expect(last()).toMatchObject({ kind: "embeddings", path: "/v1/embeddings", model: "e5", stream: false });
    expect(last().body["input"]).toEqual(["a", "b"]);
  });

  test("responses, with previous_response_id", async () => {
    await client.responses.create({
      model: "m",
      input: "more",
      instructions: "S",
      previous_response_id: "resp_0",
    });
    expect(last()).toMatchObject({
      kind: "responses",
      path: "/v1/responses",
      model: "m",
      previousResponseId: "resp_0",
    });
  });

  test("a transcription upload: the model and stream fields from the form, the file left in the bytes", async () => {
    const audio = new Uint8Array(32 * 1024).map((_, i) => (i * 31) % 256);
    await client.audio.transcriptions.create({
      model: "whisper",
      file: await toFile(audio, "speech.wav", { type: "audio/wav" }),
      language: "en",
      timestamp_granularities: ["word", "segment"],
      response_format: "verbose_json",
    });
    const req = last();
    expect(req).toMatchObject({
      kind: "transcriptions",
      path: "/v1/audio/transcriptions",
      model: "whisper",
      stream: false,
    });
    expect(req.body["language"]).toBe("en");
    expect(req.body["timestamp_granularities[]"]).toEqual(["word", "segment"]);
    expect(req.body["file"]).toBeUndefined();
    expect(req.bytes.byteLength).toBeGreaterThan(audio.length);
  });
});
