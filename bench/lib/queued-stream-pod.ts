/**
 * The in-process gateway the stream benchmarks share (stream-micro, streams-whole-prof,
 * wire-tap-share): in-process.ts's gateway of a checkout with one pod, the pod answering as
 * the runtime's wire client hands answers over (node-upstream-response.ts): a JSON answer as
 * bytes (`COMPLETION`), a streamed one (a body with `"stream":true`) as a ChunkQueue of the
 * stream's bytes in one chunk. What a stream costs the gateway over a JSON answer, apart from
 * the sockets.
 */
import { resolve } from "node:path";
import { COMPLETION, type FetchApp, gatewayAt } from "./in-process.ts";

/**
 * When the stream reaches the pod's queue:
 *   whole      queued and ended before the call settles, a fresh copy a call, the queue
 *              handing chunks over (the Bun wire client with a short answer sent at once:
 *              attempt's `whole`, the usage frame cut in place)
 *   microtask  queued and ended in a microtask after the call settles, the same bytes each
 *              call (the relay's first read finds them: the way before the whole hand-over)
 */
export type Delivery = "whole" | "microtask";

export interface QueuedStreamOptions {
  /** The stream's bytes, as the pod sends them (in one chunk). */
  stream: Uint8Array;
  delivery: Delivery;
  /** Streams relayed as the Bun entry relays them (Bun's direct streams). */
  directStreams?: boolean;
}

/** The gateway of the checkout at `root` in process, its one pod answering as above. */
export async function queuedStreamGateway(root: string, options: QueuedStreamOptions): Promise<FetchApp> {
  const { ChunkQueue } = await import(resolve(root, "src/runtime/node-chunks.ts"));
  const { bufferedResponse, streamedResponse } = await import(
    resolve(root, "src/runtime/node-upstream-response.ts")
  );
  const { stream, delivery } = options;
  const headers = (type: string, n: number) =>
    new Headers({ "content-type": type, "content-length": String(n) });
  const fetch = async (_url: unknown, init: unknown): Promise<Response> => {
    const body = (init as { body: Uint8Array | string }).body;
    const text = typeof body === "string" ? body : new TextDecoder().decode(body);
    if (!text.includes('"stream":true'))
      return bufferedResponse(COMPLETION, 200, headers("application/json", COMPLETION.length));
    const whole = delivery === "whole";
    const queue = new ChunkQueue(
      () => {},
      () => {},
      65536,
      whole,
    );
    if (whole) {
      queue.push(stream.slice()); // a fresh buffer a call, as the socket hands one over
      queue.end();
    } else
      queueMicrotask(() => {
        queue.push(stream);
        queue.end();
      });
    return streamedResponse(queue, 200, headers("text/event-stream", stream.length));
  };
  return gatewayAt(root, { endpoints: 1, fetch, directStreams: options.directStreams });
}

/** A chat request's body: a short prompt to model `m`, streamed or not. */
export const chatBody = (stream: boolean): string =>
  JSON.stringify({
    model: "m",
    ...(stream ? { stream: true } : {}),
    messages: [{ role: "user", content: "hi" }],
  });

/**
 * `n` chat requests of `body` through `app` one after another (no content-length: the body
 * read as a stream), each answered 200 and read whole: the process CPU µs each cost, and the
 * last answer's length.
 */
export async function chatCpu(
  app: FetchApp,
  body: string,
  n: number,
): Promise<{ us: number; bytes: number }> {
  let bytes = 0;
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const res = await app.fetch(
      new Request("http://gw/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      }),
    );
    if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
    bytes = (await res.arrayBuffer()).byteLength;
  }
  const c = process.cpuUsage(c0);
  return { us: (c.user + c.system) / n, bytes };
}
