/**
 * `responseModel: requested`: clients see the model name they asked for instead of
 * the rewrite target. Only used when a rewrite changed the name, so the common path
 * pays nothing.
 */

const encoder = new TextEncoder();

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

/** Rewrites a whole JSON response body. */
export function renameModelInJson(text: string, to: string): string {
  return rename(text, to);
}

/**
 * Rewrites `model` in every `data:` event of an SSE stream. Buffers only up to the
 * next event boundary, so chunks still flow one event at a time.
 */
export function renameModelInSse(to: string): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  let pending = "";
  const emit = (event: string, c: TransformStreamDefaultController<Uint8Array>) => {
    const lines = event.split("\n").map((line) => {
      if (!line.startsWith("data:")) return line;
      const payload = line.slice(5).trimStart();
      return payload.startsWith("{") ? `data: ${rename(payload, to)}` : line;
    });
    c.enqueue(encoder.encode(lines.join("\n")));
  };
  return new TransformStream({
    transform(chunk, c) {
      pending += decoder.decode(chunk, { stream: true }).replace(/\r\n/g, "\n");
      let boundary = pending.indexOf("\n\n");
      while (boundary !== -1) {
        emit(pending.slice(0, boundary + 2), c);
        pending = pending.slice(boundary + 2);
        boundary = pending.indexOf("\n\n");
      }
    },
    flush(c) {
      pending += decoder.decode();
      if (pending) emit(pending, c);
    },
  });
}
