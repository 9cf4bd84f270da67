/**
 * The gateway's upstream fetch under Node: undici's dispatcher on one keep-alive Agent.
 *
 * Node 20's global fetch is undici too, but behind its WHATWG layers (request and
 * response objects, body mixins, a FinalizationRegistry per signal): measured in
 * bench/overhead, a bare proxy on global fetch costs ~3.9x the CPU per request of one on
 * `undici.request`, and `undici.request` itself wraps each answer in a Node Readable this
 * skips (node-dispatch.ts). This keeps the `FetchFn` seam (a web `Response`, so the proxy
 * code is the same on every runtime) but builds it directly: status, headers, and bytes or
 * a pull-based body that reads the socket only when the relay asks (backpressure reaches
 * the pod, as with fetch). Node only: the entry (node.ts) passes it to createGateway.
 */
import { Agent } from "undici";
import type { FetchFn } from "../deps.ts";
import { decodingFetch } from "../proxy/decode.ts";
import { ABORT_CONTROLLER, type LightAbortSignal, offerLightAborts } from "./node-abort.ts";
import { dispatchCall } from "./node-dispatch.ts";
import { PAIRS } from "./node-headers.ts";

/** Largest answer with a content-length that is read whole before the Response is made. */
const MAX_BUFFERED = 1 << 20;

/** Request headers as undici takes them: flat [name, value, ...] (Headers joins repeated values already). */
function flatHeaders(init: RequestInit["headers"]): string[] {
  // LightHeaders (node-headers.ts: the proxy's copy of a Node client's headers) hands its pairs over.
  const pairs = (init as { [PAIRS]?: () => string[] } | undefined)?.[PAIRS];
  if (pairs) return pairs.call(init);
  const out: string[] = [];
  if (init === undefined) return out;
  (init instanceof Headers ? init : new Headers(init)).forEach((value, name) => {
    out.push(name, value);
  });
  return out;
}

/** A FetchFn on undici's dispatcher with its own keep-alive connection pool. */
export function undiciFetch(
  opts: { keepAliveTimeoutMs?: number } = {},
): FetchFn & { close(): Promise<void> } {
  const dispatcher = new Agent({ keepAliveTimeout: opts.keepAliveTimeoutMs ?? 30_000 });
  const fetchFn = (url: string, init: RequestInit): Promise<Response> =>
    dispatchCall(dispatcher, {
      url,
      method: init.method ?? "GET",
      headers: flatHeaders(init.headers),
      body: (init.body as Uint8Array | string | null | undefined) ?? null,
      signal: (init.signal as AbortSignal | LightAbortSignal | undefined) ?? null,
      // A whole answer of known, bounded size (every non-streamed vLLM answer) is read as
      // bytes; the proxy reads it whole anyway. Streams (SSE) stay pull-based.
      maxBuffered: MAX_BUFFERED,
    });
  // attempt's controllers for these calls are LightAbortControllers (node-abort.ts).
  return offerLightAborts(Object.assign(fetchFn, { close: () => dispatcher.close() }));
}

/**
 * `decodingFetch` (gzip/deflate bodies decoded when their bytes really are compressed),
 * consulted only for answers that declare a content-encoding: it reads `body`, which
 * would build a web stream for every answer (see node-upstream-response.ts), and an
 * answer without one passes through it untouched anyway.
 */
export function decodingWhenEncoded(base: FetchFn): FetchFn {
  // A plain `then`, no async frame per call; a call that throws at once still rejects.
  const decoding: FetchFn = (url, init) => {
    let call: Promise<Response>;
    try {
      call = base(url, init);
    } catch (err) {
      return Promise.reject(err);
    }
    return call.then((res) =>
      res.headers.has("content-encoding") ? decodingFetch(async () => res)(url, init) : res,
    );
  };
  // What `base` offers its callers (a light AbortController for its calls), this offers too.
  const offer = (base as { [ABORT_CONTROLLER]?: unknown })[ABORT_CONTROLLER];
  return offer ? Object.assign(decoding, { [ABORT_CONTROLLER]: offer }) : decoding;
}
