import { afterAll, beforeAll, expect, test } from "bun:test";
import OpenAI, { toFile } from "openai";
import { type Stack, startPoolPerPod } from "../helpers/stack.ts";

/**
 * `POST /v1/audio/translations` (vLLM serves it beside transcriptions, for Whisper models):
 * the same multipart form, routed by its `model` field like a transcription, with the
 * official client's `audio.translations.create`.
 */
const WHISPER = "openai/whisper-large-v3";
let stack: Stack;

beforeAll(async () => {
  stack = await startPoolPerPod(["chat", "speech"], [{ model: "facebook/opt-125m" }, { model: WHISPER }], {
    endpointServedHeader: true,
  });
});

afterAll(() => stack.close());

test("a translation upload goes to the speech pool's pod and comes back as text", async () => {
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: "unused", maxRetries: 0 });
  const file = await toFile(new Uint8Array(32_000 * 2), "italian.wav", { type: "audio/wav" });
  const { data, response } = await client.audio.translations.create({ file, model: WHISPER }).withResponse();
  expect(response.headers.get("x-gateway-destination-endpoint-served")).toBe(
    `127.0.0.1:${stack.pods[1]!.port}`,
  );
  expect(data.text.length).toBeGreaterThan(0);
});

test("a streamed translation arrives as translation chunks; a JSON body is refused as for transcriptions", async () => {
  const form = new FormData();
  form.append("model", WHISPER);
  form.append("stream", "true");
  form.append("file", new Blob([new Uint8Array(32_000)]), "a.wav");
  const res = await fetch(`${stack.url}/v1/audio/translations`, { method: "POST", body: form });
  expect(res.status).toBe(200);
  const text = await res.text();
  expect(text).toContain('"object":"translation.chunk"');
  expect(text.trim().endsWith("data: [DONE]")).toBe(true);
  const json = await fetch(`${stack.url}/v1/audio/translations`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: WHISPER }),
  });
  expect(json.status).toBe(400);
  expect(((await json.json()) as { error: { code: string } }).error.code).toBe("unsupported_content_type");
});
