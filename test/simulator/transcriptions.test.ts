import { afterEach, describe, expect, test } from "bun:test";
import type { Simulator } from "../../src/simulator/index.ts";
import { audioSeconds } from "../../src/simulator/transcriptions.ts";
import { fastSim, metrics, parseSse } from "./helpers.ts";

let sim: Simulator;
afterEach(() => sim?.close());

/** A mono 16-bit PCM WAV of `seconds` of silence at `rate` Hz. */
function wav(seconds: number, rate = 8000): Uint8Array<ArrayBuffer> {
  const dataBytes = Math.round(seconds * rate) * 2;
  const bytes = new Uint8Array(44 + dataBytes);
  const view = new DataView(bytes.buffer);
  const tag = (at: number, s: string) => {
    for (let i = 0; i < 4; i++) bytes[at + i] = s.charCodeAt(i);
  };
  tag(0, "RIFF");
  view.setUint32(4, 36 + dataBytes, true);
  tag(8, "WAVE");
  tag(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, rate, true);
  view.setUint32(28, rate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  tag(36, "data");
  view.setUint32(40, dataBytes, true);
  return bytes;
}

function upload(
  fields: Record<string, string>,
  audio: Uint8Array<ArrayBuffer> | null = wav(2),
): Promise<Response> {
  const form = new FormData();
  if (audio) form.append("file", new Blob([audio], { type: "audio/wav" }), "speech.wav");
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return sim.fetch(new Request("http://sim/v1/audio/transcriptions", { method: "POST", body: form }));
}

describe("POST /v1/audio/transcriptions (multipart)", () => {
  test("the duration comes from the WAV header, else from the size as 16 kHz 16-bit mono", () => {
    expect(audioSeconds(wav(2.5))).toBeCloseTo(2.5, 9);
    expect(audioSeconds(new Uint8Array(64_000))).toBe(2);
  });

  test("json: the transcript (3 tokens a second) and the audio's duration as usage", async () => {
    sim = fastSim();
    const res = await upload({ model: "m" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      text: "hello world simulated tokens flow from",
      usage: { type: "duration", seconds: 2 },
    });
    const m = await metrics(sim);
    expect(m.get('vllm:generation_tokens_total{model_name="m"}')).toBe(6);
    expect(m.get('vllm:request_success_total{model_name="m",finished_reason="stop"}')).toBe(1);
    expect(m.get('vllm:prompt_tokens_total{model_name="m"}')).toBeGreaterThan(0);
  });

  test("text and verbose_json formats", async () => {
    sim = fastSim();
    const text = await upload({ model: "m", response_format: "text" }, wav(1));
    expect(text.headers.get("content-type")).toContain("text/plain");
    expect(await text.text()).toBe("hello world simulated");
    const verbose = await (
      await upload({ model: "m", response_format: "verbose_json", language: "fr" }, wav(1))
    ).json();
    expect(verbose).toMatchObject({
      task: "transcribe",
      language: "fr",
      duration: 1,
      text: "hello world simulated",
    });
    expect(verbose.segments[0]).toMatchObject({ id: 0, start: 0, end: 1, text: "hello world simulated" });
  });

  test("stream=true: transcription.chunk deltas, usage when asked, then [DONE]", async () => {
    sim = fastSim();
    const res = await upload({ model: "m", stream: "true", stream_include_usage: "true" }, wav(1));
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const frames = parseSse(await res.text());
    expect(frames.at(-1)).toBe("[DONE]");
    // biome-ignore lint/suspicious/noExplicitAny: parsed chunks
    const chunks = frames.slice(0, -1) as any[];
    expect(chunks).toHaveLength(4);
    for (const c of chunks) expect(c).toMatchObject({ object: "transcription.chunk", model: "m" });
    expect(
      chunks
        .slice(0, 3)
        .map((c) => c.choices[0].delta.content)
        .join(""),
    ).toBe("hello world simulated");
    expect(chunks[2].choices[0].finish_reason).toBe("stop");
    expect(chunks[3].usage).toMatchObject({ completion_tokens: 3 });
  });

  test.each([
    ["no file", {}, null, "file"],
    ["file as text", { file: "not audio" }, null, "file"],
    ["srt format", { response_format: "srt" }, wav(1), "response_format"],
    ["stream not a boolean", { stream: "maybe" }, wav(1), "stream"],
  ])("%s -> 400 naming the field", async (_name, fields, audio, param) => {
    sim = fastSim();
    const res = await upload({ model: "m", ...fields }, audio);
    expect(res.status).toBe(400);
    expect((await res.json()).error.param).toBe(param);
  });

  test("a JSON body is a 400; an unknown model a 404", async () => {
    sim = fastSim();
    const json = await sim.fetch(
      new Request("http://sim/v1/audio/transcriptions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "m" }),
      }),
    );
    expect(json.status).toBe(400);
    expect((await json.json()).error.message).toContain("multipart/form-data");
    expect((await upload({ model: "whisper-x" })).status).toBe(404);
  });
});
