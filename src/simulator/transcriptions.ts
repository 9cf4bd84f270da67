/**
 * POST /v1/audio/transcriptions (and /v1/audio/translations, the same form with Whisper's
 * `<|translate|>` task and `translation.chunk` stream chunks) of a simulated vLLM pod (a
 * Whisper-like model): a multipart form with `file` (required), `model`, `language` (default "en"), `prompt`,
 * `response_format` (json, text or verbose_json; vLLM refuses srt and vtt), `stream`
 * and `stream_include_usage`.
 *
 * The audio is not decoded. Its duration comes from a WAV header (byte rate and data
 * size) or, for any other file, from its size as 16 kHz 16-bit mono (32,000 bytes/s).
 * The transcript runs 3 tokens per second of audio (at least 1). Prompt text (what the
 * engine prefills and caches, and the billed prompt tokens) = Whisper's decoder prompt
 * `<|startoftranscript|><|LANG|><|transcribe|><|notimestamps|>` + `prompt`.
 */
import { SimError } from "./errors.ts";
import { outputText, randomId, SSE_DONE, sseFrame, tokenText } from "./openai-format.ts";
import type { ResolvedOptions } from "./options.ts";
import { planGeneration } from "./parse.ts";
import { countTokens } from "./prefix-cache.ts";
import { brokenJson, eventStream, jsonOf, type RunContext, runAll } from "./respond.ts";
import type { GenerationResult } from "./types.ts";

const FORMATS = ["json", "text", "verbose_json"] as const;
type Format = (typeof FORMATS)[number];
const TOKENS_PER_SECOND = 3;

/** Seconds of audio in `bytes`: from a WAV header when there is one, else as 16 kHz 16-bit mono. */
export function audioSeconds(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length >= 44 && tag(0) === "RIFF" && tag(8) === "WAVE") {
    let byteRate = 0;
    for (let at = 12; at + 8 <= bytes.length; ) {
      const size = view.getUint32(at + 4, true);
      if (tag(at) === "fmt " && at + 16 <= bytes.length) byteRate = view.getUint32(at + 16, true);
      if (tag(at) === "data" && byteRate > 0) return Math.min(size, bytes.length - at - 8) / byteRate;
      at += 8 + size + (size % 2);
    }
  }
  return bytes.length / 32_000;
}

function field(form: FormData, name: string): string | undefined {
  const value = form.get(name);
  if (value === null) return undefined;
  if (typeof value !== "string") throw new SimError(400, `${name}: expected a text field, got a file.`, name);
  return value;
}

function flag(form: FormData, name: string): boolean {
  const value = field(form, name);
  if (value === undefined || value === "" || value === "false") return false;
  if (value === "true") return true;
  throw new SimError(400, `${name}: expected true or false, got "${value}".`, name);
}

/** Reads the multipart body; a body that is not a form is a 400. */
export async function readForm(raw: Request): Promise<FormData> {
  const type = raw.headers.get("content-type") ?? "";
  if (!type.startsWith("multipart/form-data") && !type.startsWith("application/x-www-form-urlencoded")) {
    throw new SimError(400, "The request body must be multipart/form-data with the audio in `file`.");
  }
  try {
    return await raw.formData();
  } catch {
    throw new SimError(400, "The multipart body could not be read: check its boundary and parts.");
  }
}

export async function transcribe(
  o: ResolvedOptions,
  run: RunContext,
  form: FormData,
  random: () => number,
  task: "transcribe" | "translate" = "transcribe",
): Promise<Response> {
  const file = form.get("file");
  if (file === null || typeof file === "string") {
    throw new SimError(400, "file: the audio file to transcribe is required, as a file part.", "file");
  }
  const format = (field(form, "response_format") ?? "json") as Format;
  if (!FORMATS.includes(format)) {
    throw new SimError(
      400,
      `response_format: expected one of ${FORMATS.join(", ")}, got "${format}".`,
      "response_format",
    );
  }
  const stream = flag(form, "stream");
  const includeUsage = flag(form, "stream_include_usage");
  const language = field(form, "language") || "en";
  const seconds = audioSeconds(new Uint8Array(await file.arrayBuffer()));
  const speech = Math.max(1, Math.ceil(seconds * TOKENS_PER_SECOND));
  const prompt = `<|startoftranscript|><|${language}|><|${task}|><|notimestamps|>${field(form, "prompt") ?? ""}`;
  const room = o.maxModelLen - countTokens(prompt);
  const plan = {
    ...planGeneration(o, {
      model: field(form, "model"),
      prompt,
      param: "prompt",
      requested: Math.max(1, Math.min(speech, room)),
      random,
    }),
    finishReason: "stop" as const,
  };
  const duration = { type: "duration", seconds: Math.ceil(seconds) };
  if (!stream) {
    if (format === "text") {
      const outcome = await runAll(run, [plan]);
      if (outcome === "fault") return brokenJson("");
      const text = outputText(outcome[0]!.completionTokens);
      return new Response(text, { headers: { "content-type": "text/plain; charset=utf-8" } });
    }
    return jsonOf(run, plan, (r) => {
      const text = outputText(r.completionTokens);
      if (format === "json") return { text, usage: duration };
      return {
        task,
        language,
        duration: seconds,
        text,
        segments: [segment(r, seconds, text)],
        usage: duration,
      };
    });
  }
  const head = {
    id: randomId(task === "translate" ? "trsl-" : "trsc-"),
    object: task === "translate" ? "translation.chunk" : "transcription.chunk",
    created: Math.floor(Date.now() / 1000),
    model: plan.model,
  };
  const chunk = (delta: Record<string, unknown>, finish: string | null) =>
    sseFrame({ ...head, choices: [{ delta, finish_reason: finish, stop_reason: null }] });
  return eventStream(run, plan, {
    token: (i) => [chunk({ content: tokenText(i) }, i === plan.outputTokens - 1 ? "stop" : null)],
    finish: (r: GenerationResult) => [
      ...(includeUsage
        ? [
            sseFrame({
              ...head,
              choices: [],
              usage: {
                prompt_tokens: r.promptTokens,
                completion_tokens: r.completionTokens,
                total_tokens: r.promptTokens + r.completionTokens,
              },
            }),
          ]
        : []),
      sseFrame(SSE_DONE),
    ],
  });
}

function segment(r: GenerationResult, seconds: number, text: string) {
  return {
    id: 0,
    seek: 0,
    start: 0,
    end: seconds,
    text,
    tokens: Array.from({ length: r.completionTokens }, (_, i) => i),
    temperature: 0,
    avg_logprob: 0,
    compression_ratio: 1,
    no_speech_prob: 0,
  };
}
