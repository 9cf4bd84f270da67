/**
 * `responseModel: requested`: clients see the model name they asked for instead of
 * the rewrite target. Only used when a rewrite changed the name, so the common path
 * pays nothing.
 */
import { indexOfBytes, pattern, stringEnd } from "./bytes.ts";
import { dataLines } from "./sse-frame.ts";

const encoder = new TextEncoder();
const MODEL_KEY = pattern('"model":');

function rename(json: string, to: string): string {
  try {
    const obj = JSON.parse(json) as unknown;
    if (obj && typeof obj === "object" && "model" in obj) {
      (obj as { model: unknown }).model = to;
      return JSON.stringify(obj);
    }
  } catch {
    // Not JSON: pass it on as it came.
  }
  return json;
}

/** Rewrites the top-level `model` of a whole JSON response body. */
export function renameModelInJson(text: string, to: string): string {
  return rename(text, to);
}

/**
 * The first string-valued `"model":` of an SSE frame set to `to`, in bytes (no parse),
 * or undefined when the frame has none. For OpenAI chunks, whose only `model` key is
 * the top-level one and comes before any generated text (which is escaped anyway).
 */
export function renameFirstModel(frame: Uint8Array, to: string): Uint8Array | undefined {
  const key = indexOfBytes(frame, MODEL_KEY);
  if (key === -1) return undefined;
  let at = key + MODEL_KEY.length;
  while (frame[at] === 0x20) at++;
  if (frame[at] !== 0x22) return undefined;
  const end = stringEnd(frame, at);
  if (end === -1) return undefined;
  const value = encoder.encode(JSON.stringify(to));
  const out = new Uint8Array(frame.length - (end - at) + value.length);
  out.set(frame.subarray(0, at), 0);
  out.set(value, at);
  out.set(frame.subarray(end), at + value.length);
  return out;
}

/**
 * Sets `model` on the object at `path` of a frame's JSON data (e.g. `["response"]` for the
 * Responses API, `["message"]` for Anthropic's `message_start`) and re-renders the frame:
 * its other lines as they were, then one `data:` line, then a blank line. Undefined when
 * the data is not JSON or has no such object.
 */
export function renameModelAt(
  frame: Uint8Array,
  path: readonly string[],
  to: string,
): Uint8Array | undefined {
  const { others, data } = dataLines(frame);
  if (data === undefined) return undefined;
  let obj: unknown;
  try {
    obj = JSON.parse(data);
  } catch {
    return undefined;
  }
  let at = obj;
  for (const k of path) at = at && typeof at === "object" ? (at as Record<string, unknown>)[k] : undefined;
  if (!at || typeof at !== "object" || !("model" in at)) return undefined;
  (at as { model: unknown }).model = to;
  const head = others.length ? `${others.join("\n")}\n` : "";
  return encoder.encode(`${head}data: ${JSON.stringify(obj)}\n\n`);
}
