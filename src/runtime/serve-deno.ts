import type { FetchHandler, RunningServer, ServeFn } from "./server.ts";

/** The slice of Deno's API the Deno entry uses (declared here: no @types package for it). */
export interface DenoApi {
  version: { deno: string };
  args: string[];
  env: { toObject(): Record<string, string> };
  serve(
    options: { port: number; hostname: string; onListen?: (addr: { port: number }) => void },
    handler: FetchHandler,
  ): { addr: { port: number }; shutdown(): Promise<void>; finished: Promise<void> };
}

/** The `Deno` global; throws outside Deno. */
export function denoApi(): DenoApi {
  const deno = (globalThis as { Deno?: DenoApi }).Deno;
  if (!deno) throw new Error("not running under Deno");
  return deno;
}

/** Deno.serve behind the ServeFn seam. Deno has no idle timeout on streamed responses. */
export const serveDeno: ServeFn = async ({ fetch, port, hostname = "0.0.0.0" }) => {
  const server = denoApi().serve({ port, hostname, onListen: () => {} }, fetch);
  const running: RunningServer = {
    port: server.addr.port,
    hostname,
    // shutdown() is graceful (open requests finish first); drainMs bounds that wait.
    close: async ({ drainMs } = {}) => {
      const done = server.shutdown();
      if (!drainMs) return done;
      let cancel: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([done, new Promise<void>((r) => (cancel = setTimeout(r, drainMs)))]);
      clearTimeout(cancel);
    },
  };
  return running;
};
