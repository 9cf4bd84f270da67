/**
 * Reading one SSE frame (as the framer cut it): its `event:` name in bytes, and, only
 * when a frame must be parsed, its `data:` lines as text.
 */

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
  for (const line of decoder.decode(frame).split(/\r\n|\r|\n/)) {
    if (line.startsWith("data:")) {
      const value = line.charCodeAt(5) === 0x20 ? line.slice(6) : line.slice(5);
      data = data === undefined ? value : `${data}\n${value}`;
    } else if (line !== "") others.push(line);
  }
  return { data, others };
}

/** The frame's data parsed as JSON, or undefined (no data, `[DONE]`, not JSON). */
export function frameJson(frame: Uint8Array): Record<string, unknown> | undefined {
  const { data } = dataLines(frame);
  if (data === undefined || !data.trimStart().startsWith("{")) return undefined;
  try {
    const obj = JSON.parse(data) as unknown;
    return obj && typeof obj === "object" ? (obj as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
