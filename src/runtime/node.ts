/** Node entry: `npm run start:node`. */
import { exitOnSignals, main } from "./main.ts";
import { nodeDirectStreams } from "./node-relay.ts";
import { serveNode } from "./serve-node.ts";
import { decodingWhenEncoded, undiciFetch } from "./undici-fetch.ts";
import { tcpSubscriber } from "./zmq-socket.ts";

const started = await main({
  kvSubscriber: tcpSubscriber,
  serve: serveNode,
  runtime: `node ${process.version}`,
  argv: process.argv.slice(2),
  env: process.env,
  // Upstream calls on undici.request: Node's global fetch costs several times as much CPU per call.
  fetch: decodingWhenEncoded(undiciFetch()),
  // SSE answers relayed straight into the ServerResponse: no web stream, pull and promise per chunk.
  directStreams: nodeDirectStreams,
  // A request's metrics and log line are written after its answer has left, as on Bun: the
  // listener writes the answer when the handler's promise settles (a microtask), and
  // immediates run after that turn's I/O callbacks, one drain for every record the turn
  // queued (src/observability/after-answer.ts). At one connection the bookkeeping was on the
  // client's clock.
  afterAnswer: setImmediate,
});
if (started) exitOnSignals(started);
