/** Header hygiene for proxying (RFC 9110 §7.6.1 hop-by-hop headers and friends). */

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
  // The body is re-framed on each side, and fetch decodes compressed bodies.
  "content-length",
  "content-encoding",
]);

/** Whether a lower-case header name is one the gateway never passes on (hop-by-hop, framing, encoding). */
export function isHopByHop(lowerName: string): boolean {
  return HOP_BY_HOP.has(lowerName);
}

/**
 * The serving pod's address on an answer relayed from a model server (and only there), when
 * the GatewayConfig's `endpointServedHeader` is on; the gateway itself reads `Exchange.servedBy`.
 */
export const SERVED_BY_HEADER = "x-gateway-destination-endpoint-served";

/**
 * Where a pod client's Response names the hop-by-hop headers its answer holds, as it read
 * them (the Bun wire client: http1-parse.ts): the lower-case names `isHopByHop` accepts, each
 * as often as it came, for an answer without a `Connection` header (absent otherwise). Its
 * Headers is the client's own, editable, and nothing has changed it since: `answerHeaders`
 * then deletes those names without reading the Headers again.
 */
export const HOP_NAMES = Symbol.for("inference-gateway.hopByHopNames");

/**
 * Client headers that steer the gateway itself (`x-gateway-*` / `x-llm-d-*`: model
 * rewrite, objective, fairness id, destination endpoint...) and the SLO header it reads:
 * they are the gateway's business, never the pod's, and a client could otherwise pass a
 * routing hint (or a name it was refused) through to the pod.
 */
const GATEWAY_PREFIXES = ["x-gateway-", "x-llm-d-"];
const GATEWAY_READ = new Set(["x-slo-ttft-ms"]);

/** Credential headers the gateway accepts a key from: never forwarded unless `forwardAuthorization`. */
const CREDENTIALS = new Set(["authorization", "x-api-key"]);

/** Whether a client header steers the gateway (and so stays with it). */
export function isGatewayControl(name: string): boolean {
  return GATEWAY_READ.has(name) || isGatewayPrefixed(name);
}

/** `x-gateway-*` or `x-llm-d-*`. */
function isGatewayPrefixed(name: string): boolean {
  if (name.charCodeAt(0) !== 120) return false; // every one starts with "x"
  for (const p of GATEWAY_PREFIXES) if (name.startsWith(p)) return true;
  return false;
}

/**
 * Headers to send upstream: the client's, minus hop-by-hop, gateway-control and
 * (unless `forwardAuthorization`) credential headers. A native copy, then the few
 * unwanted names deleted: a third of the cost of setting every header one by one.
 */
export function upstreamHeaders(client: Headers, opts: { forwardAuthorization: boolean }): Headers {
  const without = (client as Offers)[WITHOUT];
  if (without) {
    const dropped = connectionTokens(client);
    // The runtime's own Headers (Node: src/runtime/node-headers.ts) copies itself without them.
    const out = without.call(client, (key) => isUnwantedUpstream(key, dropped, opts.forwardAuthorization));
    out.set("accept-encoding", "identity");
    return out;
  }
  const out = new Headers(client);
  // `connection` is asked for only when the scan meets it (it is hop-by-hop itself), and the
  // names it lists are then found by a second scan: a request without one costs no `get`
  // (tenth pass). Only names the headers hold are deleted (a token need not be a valid name).
  let connection = false;
  for (const key of client.keys()) {
    if (key === "connection") connection = true;
    if (isUnwantedUpstream(key, NONE, opts.forwardAuthorization)) out.delete(key);
  }
  if (connection) deleteListed(client, out);
  out.set("accept-encoding", "identity");
  return out;
}

/**
 * The headers of a request to a model server or backend: `upstreamHeaders`, then the body's
 * content type (a transcription keeps the client's multipart boundary) and the request id.
 */
export function bodyRequestHeaders(
  client: Headers,
  kind: string,
  requestId: string,
  opts: { forwardAuthorization: boolean },
): Headers {
  const headers = upstreamHeaders(client, opts);
  headers.set(
    "content-type",
    kind === "transcriptions" ? (client.get("content-type") ?? "multipart/form-data") : "application/json",
  );
  headers.set("x-request-id", requestId);
  return headers;
}

/** Response headers to send back to the client (a native copy, the hop-by-hop ones deleted). */
export function downstreamHeaders(upstream: Headers): Headers {
  const dropped = connectionTokens(upstream);
  const without = (upstream as Offers)[WITHOUT];
  if (without) return without.call(upstream, (key) => HOP_BY_HOP.has(key) || dropped.has(key));
  const out = new Headers(upstream);
  for (const key of upstream.keys()) if (HOP_BY_HOP.has(key) || dropped.has(key)) out.delete(key);
  return out;
}

/**
 * The pod's answer headers made fit for the client in place (hop-by-hop names deleted), or,
 * when that Headers may not be edited (a platform fetch's answer on Node, Deno or Workers
 * has an immutable guard: its first `delete` or `set` throws before changing anything), a
 * copy as `downstreamHeaders` makes. Every answer's Headers is its own object (the
 * gateway's pod clients build one per answer, a platform `Response` holds its own), so
 * editing it changes nothing anyone else reads: one Headers built per answer instead of two.
 * `editable.ok` remembers a refusal, so a fetch whose answers are immutable pays the throw once.
 * `known`: the hop-by-hop names the pod client found (its Response's `HOP_NAMES`), deleted as they are.
 */
export function answerHeaders(
  upstream: Headers,
  editable: { ok: boolean },
  known?: readonly string[],
): Headers {
  // The pod client read the names already (HOP_NAMES): no scan of the Headers (~0.25 µs).
  if (known !== undefined) {
    for (const key of known) upstream.delete(key);
    return upstream;
  }
  // A runtime's own Headers (Node's LightHeaders) copies itself in one plain loop, where its
  // iteration sorts: the copy stays cheaper there.
  if (!editable.ok || (upstream as Offers)[WITHOUT]) return downstreamHeaders(upstream);
  // As in upstreamHeaders: `connection`'s names are asked for only when it is there.
  let hop: string[] | undefined;
  let connection = false;
  for (const key of upstream.keys()) {
    if (!HOP_BY_HOP.has(key)) continue;
    if (key === "connection") connection = true;
    if (hop === undefined) hop = [key];
    else hop.push(key);
  }
  if (connection) {
    const dropped = connectionTokens(upstream);
    for (const key of upstream.keys()) if (dropped.has(key) && !HOP_BY_HOP.has(key)) hop!.push(key);
  }
  try {
    // A probe that changes nothing when it succeeds: an immutable Headers throws on it.
    if (hop === undefined) upstream.delete("transfer-encoding");
    else for (const key of hop) upstream.delete(key);
    return upstream;
  } catch {
    editable.ok = false;
    return downstreamHeaders(upstream);
  }
}

/** A client header the pod must not get (`dropped`: the names its `Connection` header lists). */
export function isUnwantedUpstream(
  key: string,
  dropped: ReadonlySet<string>,
  forwardAuthorization: boolean,
): boolean {
  // One Map lookup for the names the gateway knows, where each header of the client's (an SDK
  // sends ~10) took three or four set lookups: podHead for an SDK's headers ~2.9 -> ~2.6 µs in
  // a request handler under Bun (thirty-first pass).
  const kind = KNOWN.get(key);
  if (kind === HOP || kind === STEERING || (kind === CREDENTIAL && !forwardAuthorization)) return true;
  return (dropped.size !== 0 && dropped.has(key)) || isGatewayPrefixed(key);
}

const HOP = 0;
const CREDENTIAL = 1;
const STEERING = 2;
/** Every name `isUnwantedUpstream` knows by itself, with why. */
const KNOWN = new Map<string, number>([
  ...[...HOP_BY_HOP].map((name) => [name, HOP] as const),
  ...[...CREDENTIALS].map((name) => [name, CREDENTIAL] as const),
  ...[...GATEWAY_READ].map((name) => [name, STEERING] as const),
]);

/**
 * Where a runtime's own Headers offers a copy of itself without some names (Node's
 * LightHeaders, src/runtime/node-headers.ts): the copy is of the same kind, with no platform
 * Headers built on the way. Any other Headers is copied natively, as before.
 */
const WITHOUT = Symbol.for("inference-gateway.headersWithout");
type Offers = { [WITHOUT]?: (drop: (lowerName: string) => boolean) => Headers };

const NONE: ReadonlySet<string> = new Set();

/** Deletes from `out` the names of `from` that its `Connection` header lists. */
function deleteListed(from: Headers, out: Headers): void {
  const dropped = connectionTokens(from);
  if (dropped.size === 0) return;
  for (const key of from.keys()) if (dropped.has(key)) out.delete(key);
}

/**
 * Whether a `Connection` value lists a name that is not hop-by-hop already: `keep-alive`, which
 * most HTTP/1.1 clients send (httpx, undici), lists none, so nothing more is dropped for it.
 */
export function connectionListsMore(value: string): boolean {
  if (value === "keep-alive") return false;
  for (const token of value.split(",")) {
    const name = token.trim().toLowerCase();
    if (name !== "" && !HOP_BY_HOP.has(name)) return true;
  }
  return false;
}

/** Header names listed in `Connection` are hop-by-hop too. */
export function connectionTokens(h: Headers): ReadonlySet<string> {
  const v = h.get("connection");
  if (!v) return NONE;
  return new Set(
    v
      .split(",")
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
}
