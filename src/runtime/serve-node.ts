import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { getRequestListener } from "@hono/node-server";
import { NodeRequest } from "./node-request.ts";
import { responseCacheKey, writeResponse } from "./node-respond.ts";
import type { FetchHandler, RunningServer, ServeFn } from "./server.ts";

/**
 * Pending connections the kernel keeps for the gateway (capped by net.core.somaxconn).
 * Node's default is 511: 2,000 clients connecting within a second overflowed it
 * (bench/overhead: 7,672 dropped SYNs, streams stretched by retransmits).
 */
const BACKLOG = 4096;

// How @hono/node-server tells a URL it may build by concatenation from one it must normalise.
const PLAIN_HOST = /^[a-z0-9._-]+(?::(?:[1-5]\d{3,4}|[6-9]\d{3}))?$/;
const PLAIN_PATH = /^\/[!#$&-;=?-[\]_a-z~]*$/;
const DOT_SEGMENT = /\/\.\.?(?:[/?#]|$)/;

/**
 * The URL of a request the gateway serves on its own Node path: a POST (every inference
 * request) with a plain host and path, for which it is exactly the URL node-server would
 * build. Anything else (other methods, odd hosts or paths, HTTP/1.0 without Host) goes to
 * node-server as before.
 */
export function nativeUrl(incoming: IncomingMessage): string | undefined {
  if (incoming.method !== "POST") return undefined;
  const host = incoming.headers.host;
  const path = incoming.url;
  if (!host || !path || !PLAIN_HOST.test(host) || !PLAIN_PATH.test(path) || DOT_SEGMENT.test(path))
    return undefined;
  return `http://${host}${path}`;
}

/**
 * Node's listener for the gateway. POSTs are served without @hono/node-server's request and
 * response wrapping (node-request.ts, node-respond.ts: measured, its per-request Request,
 * AbortSignal, async writer and a separate write for a stream's head were the largest Node
 * costs left above a bare node:http proxy); everything else goes to node-server's listener,
 * which also installs its lightweight Response as the global one, as before.
 */
export function nodeListener(
  fetch: FetchHandler,
): (incoming: IncomingMessage, outgoing: ServerResponse) => void {
  const fallback = getRequestListener(fetch);
  const cacheKey = responseCacheKey();
  return (incoming, outgoing) => {
    const url = nativeUrl(incoming);
    if (url === undefined) {
      void fallback(incoming, outgoing);
      return;
    }
    const request = new NodeRequest(incoming, url);
    outgoing.on("close", () => {
      if (!outgoing.writableFinished)
        request.clientGone(
          new Error(incoming.errored ? String(incoming.errored) : "Client connection prematurely closed."),
        );
      else if (!incoming.readableEnded) drain(incoming);
    });
    const write = (res: Response) => writeResponse(res, outgoing, cacheKey);
    const fail = (err: unknown) => write(fetchFailed(err));
    let answer: Response | Promise<Response>;
    try {
      answer = fetch(request as unknown as Request);
    } catch (err) {
      answer = fetchFailed(err);
    }
    // A Response that cannot be written (a header Node refuses) ends the connection, not the process.
    if (answer instanceof Promise) answer.then(write, fail).catch((err) => outgoing.destroy(err));
    else
      try {
        write(answer);
      } catch (err) {
        outgoing.destroy(err as Error);
      }
  };
}

/** What node-server answers when the app itself throws: 504 for a timeout, else 500, no body. */
function fetchFailed(err: unknown): Response {
  const timeout =
    err instanceof Error && (err.name === "TimeoutError" || err.constructor.name === "TimeoutError");
  return new Response(null, { status: timeout ? 504 : 500 });
}

/**
 * Reads and drops what is left of a request body the answer did not need (a 413 on its
 * declared length), so the connection can carry the next request; gives up on a body that
 * takes over 500 ms or passes 64 MiB (node-server's limits).
 */
function drain(incoming: IncomingMessage): void {
  if (incoming.destroyed) return;
  let read = 0;
  const stop = () => {
    clearTimeout(timer);
    incoming.off("data", onData);
    incoming.off("end", stop);
    incoming.off("error", stop);
  };
  const cut = () => {
    stop();
    incoming.socket?.destroySoon();
  };
  const timer = setTimeout(cut, 500);
  timer.unref();
  const onData = (chunk: Buffer) => {
    read += chunk.byteLength;
    if (read > 64 * 1024 * 1024) cut();
  };
  incoming.on("data", onData);
  incoming.on("end", stop);
  incoming.on("error", stop);
  incoming.resume();
}

/** Node's server behind the ServeFn seam (nodeListener), listening with a deep accept backlog. */
export const serveNode: ServeFn = ({ fetch, port, hostname = "0.0.0.0" }) =>
  new Promise<RunningServer>((resolve, reject) => {
    const server = createServer(nodeListener(fetch));
    server.once("error", reject);
    server.listen({ port, host: hostname, backlog: BACKLOG }, () => {
      const address = server.address();
      resolve({
        port: typeof address === "object" && address ? address.port : port,
        hostname,
        close: ({ drainMs = 0 } = {}) =>
          new Promise<void>((done) => {
            // close() waits for open requests; idle keep-alive sockets go now, the rest after drainMs.
            const force = setTimeout(() => server.closeAllConnections(), drainMs);
            server.close(() => {
              clearTimeout(force);
              done();
            });
            server.closeIdleConnections();
            if (drainMs <= 0) server.closeAllConnections();
          }),
      });
    });
  });
