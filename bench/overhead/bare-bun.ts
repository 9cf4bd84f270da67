/**
 * The floor under Bun: the least a JSON-aware proxy must do. Bun.serve + fetch; reads the
 * body, parses the JSON (as anything that routes on `model` must), forwards the bytes
 * round-robin to the upstreams with the client's headers (minus host/length), and streams
 * the answer back. No validation, no scheduling, no metrics, no logging.
 *
 * Two flags add one piece of the gateway's proxy at a time (its own code, imported from
 * src/proxy/), to measure what that piece costs on top of the floor:
 *   --attempt  the upstream call through `attempt()` (AbortController, response timer,
 *              AbortSignal.any with the client's signal)
 *   --relay    the answer through `relay()` (pull-based JS ReadableStream, idle timer per
 *              read) with the accounting tap (JsonAccounting / SseAccounting)
 *   --read-whole  a JSON answer read whole (arrayBuffer) and answered as bytes, as the
 *              gateway's forward stage does
 *   --headers  the gateway's upstreamHeaders()/downstreamHeaders() instead of copies
 *   --decode   the upstream call through decodingFetch() (src/proxy/decode.ts)
 *   --no-tap   (with --relay) no accounting tap: what the stream machinery alone costs
 *   --direct   the answer through a Bun `type: "direct"` stream that reads the pod's body
 *              and writes each chunk (after the accounting tap) straight to the socket
 *   --first-byte  (with --attempt) a stream's first chunk awaited in attempt() and replayed,
 *              as the gateway does for `"stream": true`
 *
 * And what the plain fetch is given, one piece at a time (without --attempt), to see what
 * of Bun's `fetch` cost is ours to choose:
 *   --u8       the body as a Uint8Array view (as the gateway sends it) instead of the ArrayBuffer
 *   --signal=client|own|none  the client's signal (default), an AbortController's own signal
 *              with a listener on the client's, or no signal at all
 *   --timer    a setTimeout set and cleared per request (attempt's response timer)
 *   --no-decompress  `decompress: false` in the init (as decodingFetch sets it)
 *   --plain-headers  the upstream headers as a plain [name, value][] list, not a Headers
 *   --answer-headers  the three headers the gateway adds to every answer (x-gateway-target-model,
 *              x-gateway-destination-endpoint-served, x-request-id) set on a JSON answer's
 *              headers, with values of the same lengths
 *   --ballast-mb=N  N MiB of live JS objects (small records in arrays, as a heap of maps and
 *              records holds them) kept for the process's life: what a larger live heap alone
 *              costs the same proxy
 *
 * And the transport under the call:
 *   --wire     the upstream calls on the gateway's own HTTP/1.1 client over Bun.connect
 *              (src/runtime/bun-wire.ts) instead of Bun's fetch; a JSON answer (read whole
 *              by that client already) is answered as bytes, a relayed stream read from its
 *              chunk queue (CHUNK_SOURCE), as the gateway reads them
 *
 *   BUN_CONFIG_MAX_HTTP_REQUESTS=65535 bun bench/overhead/bare-bun.ts --port 0 --upstreams 127.0.0.1:8001,...
 * prints one line `{"port":N}` once listening.
 */
import { parseArgs } from "node:util";
import { systemClock } from "../../src/clock.ts";
import { SseAccounting } from "../../src/proxy/accounting.ts";
import { attempt } from "../../src/proxy/attempt.ts";
import { decodingFetch } from "../../src/proxy/decode.ts";
import { downstreamHeaders, upstreamHeaders } from "../../src/proxy/headers.ts";
import { JsonAccounting } from "../../src/proxy/json-accounting.ts";
import { type ChunkSource, relay } from "../../src/proxy/relay.ts";
import { wireFetch } from "../../src/runtime/bun-wire.ts";
import { CHUNK_SOURCE } from "../../src/runtime/node-chunks.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    hostname: { type: "string", default: "127.0.0.1" },
    upstreams: { type: "string" },
    attempt: { type: "boolean", default: false },
    relay: { type: "boolean", default: false },
    "read-whole": { type: "boolean", default: false },
    headers: { type: "boolean", default: false },
    decode: { type: "boolean", default: false },
    "first-byte": { type: "boolean", default: false },
    "no-tap": { type: "boolean", default: false },
    direct: { type: "boolean", default: false },
    u8: { type: "boolean", default: false },
    signal: { type: "string", default: "client" },
    timer: { type: "boolean", default: false },
    "no-decompress": { type: "boolean", default: false },
    "plain-headers": { type: "boolean", default: false },
    "answer-headers": { type: "boolean", default: false },
    "ballast-mb": { type: "string", default: "0" },
    wire: { type: "boolean", default: false },
  },
});
/** Live objects the collector must keep (--ballast-mb): ~64 bytes a record. */
const ballast: { a: number; b: string; c: unknown }[][] = [];
for (let mb = 0; mb < Number(values["ballast-mb"]); mb++) {
  const chunk: { a: number; b: string; c: unknown }[] = [];
  for (let i = 0; i < 16_384; i++) chunk.push({ a: i, b: `r${mb}-${i}`, c: chunk[i - 1] });
  ballast.push(chunk);
}
const upstreams = (values.upstreams ?? "").split(",").map((a) => `http://${a}`);
if (upstreams.length === 0 || !upstreams[0])
  throw new Error("--upstreams host:port[,host:port...] is required");
let next = 0;
const decoder = new TextDecoder();
const transport = values.wire ? wireFetch() : (url: string, init: RequestInit) => fetch(url, init);
const upstreamFetch = values.decode ? decodingFetch(transport) : transport;

const server = Bun.serve({
  port: Number(values.port),
  hostname: values.hostname,
  idleTimeout: 0,
  async fetch(req) {
    const bytes = await req.arrayBuffer();
    const body = JSON.parse(decoder.decode(bytes)) as { model?: unknown; stream?: unknown };
    if (typeof body.model !== "string") return new Response("model missing", { status: 400 });
    let headers: Headers | [string, string][];
    if (values["plain-headers"]) {
      headers = [];
      for (const [k, v] of req.headers) if (k !== "host" && k !== "content-length") headers.push([k, v]);
    } else if (values.headers) {
      headers = upstreamHeaders(req.headers, { forwardAuthorization: false });
      headers.set("content-type", "application/json");
    } else {
      headers = new Headers(req.headers);
      headers.delete("host");
      headers.delete("content-length");
    }
    const path = req.url.slice(req.url.indexOf("/", 8));
    const upstream = upstreams[next++ % upstreams.length]!;
    let res: Response;
    let controller: AbortController | undefined;
    let source: ChunkSource | undefined;
    if (values.attempt) {
      const r = await attempt({
        fetch: upstreamFetch,
        url: upstream + path,
        headers: headers as Headers,
        body: new Uint8Array(bytes),
        clientSignal: req.signal,
        responseTimeoutMs: 600_000,
        ...(values["first-byte"] && body.stream === true ? { firstByteTimeoutMs: 600_000 } : {}),
      });
      if (r.kind !== "response") return new Response("upstream failed", { status: 502 });
      res = r.response;
      controller = r.controller;
      source = r.body;
    } else {
      let signal: AbortSignal | undefined = req.signal;
      let own: AbortController | undefined;
      const client = req.signal;
      const onGone = () => own?.abort(client.reason);
      if (values.signal === "none") signal = undefined;
      else if (values.signal === "own") {
        own = new AbortController();
        signal = own.signal;
        client.addEventListener("abort", onGone);
      }
      const timer = values.timer ? setTimeout(onGone, 600_000) : undefined;
      const init: RequestInit & { decompress?: boolean } = {
        method: "POST",
        headers,
        body: values.u8 ? new Uint8Array(bytes) : bytes,
        signal,
      };
      if (values["no-decompress"]) init.decompress = false;
      res = await upstreamFetch(upstream + path, init);
      if (timer) clearTimeout(timer);
      if (own) client.removeEventListener("abort", onGone);
    }
    const sse = (res.headers.get("content-type") ?? "").includes("text/event-stream");
    if (values.wire && values.relay && !source)
      source = (res as { [CHUNK_SOURCE]?: () => ChunkSource | undefined })[CHUNK_SOURCE]?.();
    if ((values["read-whole"] || values.wire) && !sse) {
      const answer = new Uint8Array(await res.arrayBuffer());
      const out = values.headers ? downstreamHeaders(res.headers) : new Headers(res.headers);
      if (values["answer-headers"]) {
        out.set("x-gateway-target-model", body.model);
        out.set("x-gateway-destination-endpoint-served", upstream.slice(7));
        out.set("x-request-id", crypto.randomUUID());
      }
      return new Response(answer, { status: res.status, headers: out });
    }
    if (!values.relay || !res.body)
      return new Response(res.body, {
        status: res.status,
        headers: values.headers ? downstreamHeaders(res.headers) : res.headers,
      });
    const out = values.headers ? downstreamHeaders(res.headers) : new Headers(res.headers);
    out.delete("content-length");
    if (values.direct) {
      const reader = source ?? res.body.getReader();
      const tap = sse
        ? new SseAccounting({ kind: "chat", now: () => systemClock.now() })
        : new JsonAccounting();
      const direct = {
        type: "direct",
        async pull(c: { write(b: Uint8Array): unknown; close(): void }) {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) {
              const rest = tap.flush();
              if (rest) c.write(rest);
              c.close();
              return;
            }
            const bytes = tap.chunk(value);
            for (const piece of bytes instanceof Uint8Array ? [bytes] : (bytes ?? [])) await c.write(piece);
          }
        },
        cancel: (reason: unknown) => reader.cancel(reason),
      };
      return new Response(new ReadableStream(direct as never), { status: res.status, headers: out });
    }
    return new Response(
      relay(source ?? res.body, {
        sse,
        ...(values["no-tap"]
          ? {}
          : {
              tap: sse
                ? new SseAccounting({ kind: "chat", now: () => systemClock.now() })
                : new JsonAccounting(),
            }),
        idleTimeoutMs: 120_000,
        direct: true, // as the gateway's Bun entry relays
        onEnd: () => {},
        abortUpstream: (reason) => controller?.abort(new Error(reason)),
      }),
      { status: res.status, headers: out },
    );
  },
});
console.log(JSON.stringify({ port: server.port }));
// A clean exit on SIGTERM, so that `bun --cpu-prof` writes its profile.
process.once("SIGTERM", () => {
  void server.stop(true).then(() => process.exit(0));
});
