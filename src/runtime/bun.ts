/** Bun entry: `npm start` / `bun run src/runtime/bun.ts`. */
import { bunUpstreamFetch } from "./bun-wire.ts";
import { exitOnSignals, main } from "./main.ts";
import { serveBun } from "./serve-bun.ts";
import { tcpSubscriber } from "./zmq-socket.ts";

// Pod calls go on the gateway's own HTTP/1.1 client (bun-wire.ts: no hop to Bun's HTTP-client
// thread per call); what it does not handle goes to Bun's fetch, as does everything when
// GATEWAY_UPSTREAM_CLIENT=fetch.
const upstreamFetch = bunUpstreamFetch(process.env);

// Bun's fetch runs at most 256 requests at once per process unless told otherwise
// (read once at start-up); past that, upstream requests would silently queue.
if (!upstreamFetch && !process.env["BUN_CONFIG_MAX_HTTP_REQUESTS"]) {
  console.warn(
    "BUN_CONFIG_MAX_HTTP_REQUESTS is not set: Bun will forward at most 256 requests at once. `npm start` sets it.",
  );
}

const started = await main({
  kvSubscriber: tcpSubscriber,
  serve: serveBun,
  // Bun.serve writes a `type: "direct"` stream's chunks straight to the socket: the SSE relay
  // as one loop instead of a queue, a pull and a promise pair per chunk (docs/overhead-streaming.md).
  directStreams: true,
  ...(upstreamFetch ? { fetch: upstreamFetch } : {}),
  runtime: `bun ${Bun.version}`,
  argv: process.argv.slice(2),
  env: process.env,
  // A request's metrics and log line are written after its answer has left: Bun.serve writes
  // the answer when the handler's promise settles, before the turn's immediates, and at one
  // connection the bookkeeping was on the client's clock (src/observability/after-answer.ts).
  afterAnswer: setImmediate,
});
if (started) exitOnSignals(started);
