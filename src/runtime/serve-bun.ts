import type { RunningServer, ServeFn } from "./server.ts";

/** Bun.serve behind the ServeFn seam. Idle timeout off: LLM streams can be slow to start. */
export const serveBun: ServeFn = async ({ fetch, port, hostname = "0.0.0.0" }) => {
  const server = Bun.serve({ fetch, port, hostname, idleTimeout: 0 });
  const running: RunningServer = {
    port: server.port ?? port,
    hostname,
    close: async () => {
      await server.stop(true);
    },
  };
  return running;
};
