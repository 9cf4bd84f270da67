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
  if (name.charCodeAt(0) !== 120) return false; // every one starts with "x"
  if (GATEWAY_READ.has(name)) return true;
  for (const p of GATEWAY_PREFIXES) if (name.startsWith(p)) return true;
  return false;
}

/**
 * Headers to send upstream: the client's, minus hop-by-hop, gateway-control and
 * (unless `forwardAuthorization`) credential headers. A native copy, then the few
 * unwanted names deleted: a third of the cost of setting every header one by one.
 */
export function upstreamHeaders(client: Headers, opts: { forwardAuthorization: boolean }): Headers {
  const out = new Headers(client);
  const dropped = connectionTokens(client);
  for (const key of client.keys()) {
    if (
      HOP_BY_HOP.has(key) ||
      dropped.has(key) ||
      isGatewayControl(key) ||
      (!opts.forwardAuthorization && CREDENTIALS.has(key))
    )
      out.delete(key);
  }
  out.set("accept-encoding", "identity");
  return out;
}

/** Response headers to send back to the client (a native copy, the hop-by-hop ones deleted). */
export function downstreamHeaders(upstream: Headers): Headers {
  const out = new Headers(upstream);
  const dropped = connectionTokens(upstream);
  for (const key of upstream.keys()) if (HOP_BY_HOP.has(key) || dropped.has(key)) out.delete(key);
  return out;
}

const NONE: ReadonlySet<string> = new Set();

/** Header names listed in `Connection` are hop-by-hop too. */
function connectionTokens(h: Headers): ReadonlySet<string> {
  const v = h.get("connection");
  if (!v) return NONE;
  return new Set(
    v
      .split(",")
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
}
