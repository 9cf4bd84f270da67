import { directRoutesOf } from "../direct-routes.ts";
import type { RunningServer, ServeFn } from "./server.ts";

/**
 * Bun.serve behind the ServeFn seam. Idle timeout off: LLM streams can be slow to start. The
 * exact-path POST handlers a fetch offers (the gateway's inference routes, src/direct-routes.ts)
 * become Bun routes, matched by Bun before any JS runs; every other request (another method or
 * path, an encoded one) goes to `fetch`, which picks the same handler for the same path.
 */
export const serveBun: ServeFn = async ({ fetch, port, hostname = "0.0.0.0" }) => {
  const direct = directRoutesOf(fetch);
  const routes =
    direct === undefined
      ? undefined
      : Object.fromEntries([...direct].map(([path, POST]) => [path, { POST }]));
  const server = Bun.serve({ fetch, port, hostname, idleTimeout: 0, ...(routes ? { routes } : {}) });
  const running: RunningServer = {
    port: server.port ?? port,
    hostname,
    close: async ({ drainMs = 0 } = {}) => {
      if (drainMs > 0) {
        // stop(false): no new connections; resolves once open requests are answered.
        let cancel: ReturnType<typeof setTimeout> | undefined;
        const late = new Promise<void>((resolve) => {
          cancel = setTimeout(resolve, drainMs);
        });
        await Promise.race([server.stop(false), late]);
        clearTimeout(cancel);
      }
      await server.stop(true);
    },
  };
  return running;
};
