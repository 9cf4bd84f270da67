import { createAdaptorServer } from "@hono/node-server";
import type { RunningServer, ServeFn } from "./server.ts";

/**
 * Pending connections the kernel keeps for the gateway (capped by net.core.somaxconn).
 * Node's default is 511: 2,000 clients connecting within a second overflowed it
 * (bench/overhead: 7,672 dropped SYNs, streams stretched by retransmits).
 */
const BACKLOG = 4096;

/** @hono/node-server behind the ServeFn seam, listening with a deep accept backlog. */
export const serveNode: ServeFn = ({ fetch, port, hostname = "0.0.0.0" }) =>
  new Promise<RunningServer>((resolve, reject) => {
    const server = createAdaptorServer({ fetch });
    server.once("error", reject);
    server.listen({ port, host: hostname, backlog: BACKLOG }, () => {
      const address = server.address();
      resolve({
        port: typeof address === "object" && address ? address.port : port,
        hostname,
        close: ({ drainMs = 0 } = {}) =>
          new Promise<void>((done) => {
            const s = server as unknown as {
              closeAllConnections?: () => void;
              closeIdleConnections?: () => void;
            };
            // close() waits for open requests; idle keep-alive sockets go now, the rest after drainMs.
            const force = setTimeout(() => s.closeAllConnections?.(), drainMs);
            server.close(() => {
              clearTimeout(force);
              done();
            });
            s.closeIdleConnections?.();
            if (drainMs <= 0) s.closeAllConnections?.();
          }),
      });
    });
  });
