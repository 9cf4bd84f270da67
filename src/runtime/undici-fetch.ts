/**
 * The gateway's upstream fetch under Node: `undici.request` on one keep-alive Agent.
 *
 * Node 20's global fetch is undici too, but behind its WHATWG layers (request and
 * response objects, body mixins, a FinalizationRegistry per signal): measured in
 * bench/overhead, a bare proxy on global fetch costs ~3.9x the CPU per request of one on
 * `undici.request`. This keeps the `FetchFn` seam (a web `Response`, so the proxy code
 * is the same on every runtime) but builds it directly: status, headers, and a
 * pull-based body that reads the socket only when the relay asks (backpressure reaches
 * the pod, as with fetch). Node only: the entry (node.ts) passes it to createGateway.
 */
import { Agent, request } from "undici";
import type { FetchFn } from "../deps.ts";
import { decodingFetch } from "../proxy/decode.ts";
import { bufferedResponse, streamedResponse } from "./node-upstream-response.ts";

/** Largest answer with a content-length that is read whole before the Response is made. */
const MAX_BUFFERED = 1 << 20;

/** Statuses whose responses have no body (a web Response refuses one). */
const NO_BODY = new Set([101, 204, 205, 304]);

type Body = Awaited<ReturnType<typeof request>>["body"];

/**
 * A web stream over undici's body, driven by its events: each pull resumes the socket read
 * and the next chunk pauses it again (no read-ahead, so backpressure reaches the pod), with
 * no promise per chunk (the async iterator made two). Cancel destroys the read; a broken
 * or aborted answer errors the stream.
 */
function webBody(body: Body): ReadableStream<Uint8Array> {
  let open = true;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        body.pause();
        body.on("data", (chunk: Uint8Array) => {
          if (!open) return;
          controller.enqueue(chunk);
          if ((controller.desiredSize ?? 0) <= 0) body.pause();
        });
        body.once("end", () => {
          if (open) controller.close();
          open = false;
        });
        body.on("error", (err) => {
          if (open) controller.error(err);
          open = false;
        });
      },
      pull() {
        body.resume();
      },
      cancel(reason) {
        open = false;
        body.destroy(reason instanceof Error ? reason : undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

/** Request headers as undici takes them: a plain object (Headers joins repeated values already). */
function plainHeaders(init: RequestInit["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  if (init === undefined) return out;
  for (const [name, value] of init instanceof Headers ? init : new Headers(init)) out[name] = value;
  return out;
}

function toHeaders(raw: Record<string, string | string[] | undefined>): Headers {
  const headers = new Headers();
  for (const name in raw) {
    const v = raw[name];
    if (v === undefined) continue;
    if (typeof v === "string") headers.append(name, v);
    else for (const one of v) headers.append(name, one);
  }
  return headers;
}

/** A FetchFn on `undici.request` with its own keep-alive connection pool. */
export function undiciFetch(
  opts: { keepAliveTimeoutMs?: number } = {},
): FetchFn & { close(): Promise<void> } {
  const dispatcher = new Agent({ keepAliveTimeout: opts.keepAliveTimeoutMs ?? 30_000 });
  const fetchFn = async (url: string, init: RequestInit): Promise<Response> => {
    const method = init.method ?? "GET";
    const res = await request(url, {
      method: method as "GET",
      headers: plainHeaders(init.headers),
      body: (init.body as Uint8Array | string | null | undefined) ?? null,
      signal: init.signal ?? null,
      dispatcher,
    });
    const headers = toHeaders(res.headers);
    if (NO_BODY.has(res.statusCode) || method === "HEAD") {
      res.body.resume();
      return new Response(null, { status: res.statusCode, headers });
    }
    // A whole answer of known, bounded size (every non-streamed vLLM answer) is read here
    // as bytes, and the proxy reads it whole anyway. Neither kind of answer is wrapped in
    // the platform's Response, whose web stream Node 20 pays for per answer
    // (node-upstream-response.ts); streams (SSE) stay pull-based.
    const length = Number(res.headers["content-length"] ?? Number.NaN);
    const type = headers.get("content-type") ?? "";
    if (length <= MAX_BUFFERED && !type.includes("text/event-stream")) {
      const bytes = new Uint8Array(await res.body.arrayBuffer());
      return bufferedResponse(bytes, res.statusCode, headers);
    }
    return streamedResponse(webBody(res.body), res.statusCode, headers);
  };
  return Object.assign(fetchFn, { close: () => dispatcher.close() });
}

/**
 * `decodingFetch` (gzip/deflate bodies decoded when their bytes really are compressed),
 * consulted only for answers that declare a content-encoding: it reads `body`, which
 * would build a web stream for every answer (see node-buffered-response.ts), and an
 * answer without one passes through it untouched anyway.
 */
export function decodingWhenEncoded(base: FetchFn): FetchFn {
  return async (url, init) => {
    const res = await base(url, init);
    if (!res.headers.has("content-encoding")) return res;
    return decodingFetch(async () => res)(url, init);
  };
}
