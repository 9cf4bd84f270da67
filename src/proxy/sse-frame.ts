/**
 * Reading one SSE frame (as the framer cut it): its `event:` name in bytes, and, only
 * when a frame must be parsed, its `data:` lines as text.
 */

import { indexOfByte } from "./byte-index.ts";

/** Any SSE line end (a module constant: see src/runtime/http1-parse.ts's regular expressions). */
const LINE_END = /\r\n|\r|\n/;

const decoder = new TextDecoder();
const LF = 0x0a;
const CR = 0x0d;
const EVENT = [0x65, 0x76, 0x65, 0x6e, 0x74, 0x3a]; // "event:"

/** The frame's `event:` field (leading space dropped), or undefined when it has none. */
export function eventName(frame: Uint8Array): string | undefined {
  let lineAt = 0;
  const len = frame.length;
  while (lineAt < len) {
    let k = 0;
    while (k < 6 && frame[lineAt + k] === EVENT[k]) k++;
    let end = lineAt;
    while (end < len && frame[end] !== LF && frame[end] !== CR) end++;
    if (k === 6) {
      let from = lineAt + 6;
      if (frame[from] === 0x20) from++;
      let name = "";
      for (let i = from; i < end; i++) name += String.fromCharCode(frame[i]!);
      return name;
    }
    lineAt = end + 1;
    if (frame[end] === CR && frame[lineAt] === LF) lineAt++;
  }
  return undefined;
}

/** The frame's data (its `data:` lines joined by LF, as the spec does) and its other lines. */
export function dataLines(frame: Uint8Array): { data: string | undefined; others: string[] } {
  const others: string[] = [];
  let data: string | undefined;
  for (const line of decoder.decode(frame).split(LINE_END)) {
    if (line.startsWith("data:")) {
      const value = line.charCodeAt(5) === 0x20 ? line.slice(6) : line.slice(5);
      data = data === undefined ? value : `${data}\n${value}`;
    } else if (line !== "") others.push(line);
  }
  return { data, others };
}

/**
 * The data of a frame that is one `data:` line and its blank line (what vLLM sends), as
 * text, without splitting the frame into lines; undefined for any other frame.
 */
function singleData(frame: Uint8Array): string | undefined {
  if (frame[0] !== 0x64 || frame[1] !== 0x61 || frame[2] !== 0x74 || frame[3] !== 0x61 || frame[4] !== 0x3a)
    return undefined; // "data:"
  const from = frame[5] === 0x20 ? 6 : 5;
  let end = indexOfByte(frame, LF, from);
  const cr = indexOfByte(frame, CR, from);
  if (cr !== -1 && (end === -1 || cr < end)) end = cr;
  if (end === -1) end = frame.length;
  for (let i = end; i < frame.length; i++) if (frame[i] !== LF && frame[i] !== CR) return undefined;
  return decoder.decode(frame.subarray(from, end));
}

/** The frame's data parsed as JSON, or undefined (no data, `[DONE]`, not JSON). */
export function frameJson(frame: Uint8Array): Record<string, unknown> | undefined {
  return parsedData(singleData(frame) ?? dataLines(frame).data);
}

/**
 * `frameJson(buf.subarray(start, end))` without the frame's view when the frame is one `data:`
 * line and its blank line (what vLLM sends): only the data's view is made, to decode it
 * (issue 19, fifteenth pass: a view costs Bun ~0.1-0.3 µs in the gateway's heap).
 */
export function frameJsonIn(
  buf: Uint8Array,
  start: number,
  end: number,
  /** `buf` holds no CR (the caller looked): none is searched for. */
  noCR = false,
): Record<string, unknown> | undefined {
  if (
    buf[start] !== 0x64 ||
    buf[start + 1] !== 0x61 ||
    buf[start + 2] !== 0x74 ||
    buf[start + 3] !== 0x61 ||
    buf[start + 4] !== 0x3a ||
    start + 5 > end
  )
    return frameJson(buf.subarray(start, end)); // "data:"
  const from = buf[start + 5] === 0x20 && start + 6 <= end ? start + 6 : start + 5;
  let lineEnd = indexOfByte(buf, LF, from);
  if (lineEnd === -1 || lineEnd > end) lineEnd = end;
  const cr = noCR ? -1 : indexOfByte(buf, CR, from);
  if (cr !== -1 && cr < lineEnd) lineEnd = cr;
  for (let i = lineEnd; i < end; i++)
    if (buf[i] !== LF && buf[i] !== CR) return frameJson(buf.subarray(start, end));
  return parsedData(decoder.decode(buf.subarray(from, lineEnd)));
}

function parsedData(data: string | undefined): Record<string, unknown> | undefined {
  if (data === undefined || !data.trimStart().startsWith("{")) return undefined;
  try {
    const obj = JSON.parse(data) as unknown;
    return obj && typeof obj === "object" ? (obj as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
