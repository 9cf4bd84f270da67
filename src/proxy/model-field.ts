/**
 * `responseModel: requested`: clients see the model name they asked for instead of
 * the rewrite target. Only used when a rewrite changed the name, so the common path
 * pays nothing.
 */
import { indexOfBytes, pattern, skipSpace, stringEnd, topLevelValue } from "./bytes.ts";
import { dataLines } from "./sse-frame.ts";

const encoder = new TextEncoder();
const MODEL_KEY = pattern('"model":');
const MODEL_NAME = pattern('"model"');

/**
 * A JSON request body with its top-level `model` set to `to` and/or its opening `{` replaced
 * by `prefix` (which opens the object and ends with a comma, so the body needs a first key),
 * in one copy of the bytes: no parse and no re-serialising (a renamed 30 KiB request was
 * `JSON.stringify` + encode, two prompt-sized copies), everything else as the client sent
 * it. Undefined when the bytes do not allow it (no first key, a model that is not a string):
 * the caller then re-serialises.
 */
export function spliceRequestBody(
  bytes: Uint8Array,
  to: string | undefined,
  prefix: Uint8Array | undefined,
): Uint8Array<ArrayBuffer> | undefined {
  const open = skipSpace(bytes, 0);
  if (bytes[open] !== 0x7b) return undefined;
  if (prefix !== undefined && bytes[skipSpace(bytes, open + 1)] !== 0x22) return undefined;
  let value: Uint8Array | undefined;
  let start = 0;
  let end = 0;
  if (to !== undefined) {
    const range = topLevelValue(bytes, MODEL_NAME);
    if (range === undefined || bytes[range[0]] !== 0x22) return undefined;
    [start, end] = range;
    value = encoder.encode(JSON.stringify(to));
  }
  const head = prefix ?? bytes.subarray(open, open + 1);
  const grown = head.length - 1 + (value ? value.length - (end - start) : 0);
  const out = new Uint8Array(bytes.length + grown);
  out.set(bytes.subarray(0, open), 0);
  out.set(head, open);
  let at = open + head.length;
  if (value) {
    out.set(bytes.subarray(open + 1, start), at);
    at += start - open - 1;
    out.set(value, at);
    out.set(bytes.subarray(end), at + value.length);
  } else out.set(bytes.subarray(open + 1), at);
  return out;
}

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
