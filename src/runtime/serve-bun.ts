import type { RunningServer, ServeFn } from "./server.ts";

/** Bun.serve behind the ServeFn seam. Idle timeout off: LLM streams can be slow to start. */
export const serveBun: ServeFn = async ({ fetch, port, hostname = "0.0.0.0" }) => {
  const server = Bun.serve({ fetch, port, hostname, idleTimeout: 0 });
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
