import { serve } from "@hono/node-server";
import type { RunningServer, ServeFn } from "./server.ts";

/** @hono/node-server behind the ServeFn seam. */
export const serveNode: ServeFn = ({ fetch, port, hostname = "0.0.0.0" }) =>
  new Promise<RunningServer>((resolve, reject) => {
    const server = serve({ fetch, port, hostname }, (info) => {
      resolve({
        port: info.port,
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
    server.once("error", reject);
  });
