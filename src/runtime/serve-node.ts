import { serve } from "@hono/node-server";
import type { RunningServer, ServeFn } from "./server.ts";

/** @hono/node-server behind the ServeFn seam. */
export const serveNode: ServeFn = ({ fetch, port, hostname = "0.0.0.0" }) =>
  new Promise<RunningServer>((resolve, reject) => {
    const server = serve({ fetch, port, hostname }, (info) => {
      resolve({
        port: info.port,
        hostname,
        close: () =>
          new Promise<void>((done) => {
            const s = server as unknown as { closeAllConnections?: () => void };
            s.closeAllConnections?.();
            server.close(() => done());
          }),
      });
    });
    server.once("error", reject);
  });
