/** One parsed server-sent event. */
export interface SseEvent {
  event: string;
  id: string | undefined;
  data: string;
}

/**
 * Reads `count` events from an SSE body, then cancels the body (the client leaves).
 * Comments and `retry:` lines are skipped; fields are parsed as EventSource does.
 */
export async function readEvents(body: ReadableStream<Uint8Array>, count: number): Promise<SseEvent[]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffer = "";
  try {
    while (events.length < count) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf("\n\n");
      while (end >= 0 && events.length < count) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event: SseEvent = { event: "message", id: undefined, data: "" };
        let hasData = false;
        for (const line of block.split("\n")) {
          const colon = line.indexOf(":");
          if (colon === 0) continue;
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") event.event = value;
          else if (field === "id") event.id = value;
          else if (field === "data") {
            event.data += (hasData ? "\n" : "") + value;
            hasData = true;
          }
        }
        if (hasData) events.push(event);
        end = buffer.indexOf("\n\n");
      }
    }
  } finally {
    await reader.cancel();
  }
  return events;
}
