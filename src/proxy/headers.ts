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

/** Client headers the gateway owns and never passes on as the client sent them. */
const GATEWAY_OWNED = new Set(["x-gateway-destination-endpoint", "x-llm-d-destination-endpoint"]);

/** Headers to send upstream: the client's, minus hop-by-hop, gateway-owned and (unless allowed) credentials. */
export function upstreamHeaders(client: Headers, opts: { forwardAuthorization: boolean }): Headers {
  const out = new Headers();
  const dropped = connectionTokens(client);
  client.forEach((value, key) => {
    if (HOP_BY_HOP.has(key) || GATEWAY_OWNED.has(key) || dropped.has(key)) return;
    if (key === "authorization" && !opts.forwardAuthorization) return;
    out.set(key, value);
  });
  out.set("accept-encoding", "identity");
  return out;
}

/** Response headers to send back to the client. */
export function downstreamHeaders(upstream: Headers): Headers {
  const out = new Headers();
  const dropped = connectionTokens(upstream);
  upstream.forEach((value, key) => {
    if (HOP_BY_HOP.has(key) || dropped.has(key)) return;
    out.append(key, value);
  });
  return out;
}

/** Header names listed in `Connection` are hop-by-hop too. */
function connectionTokens(h: Headers): Set<string> {
  const v = h.get("connection");
  if (!v) return new Set();
  return new Set(
    v
      .split(",")
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
}
