/**
 * The one runtime-specific thing the core needs besides fetch: listening on a port.
 * Each runtime entry provides a ServeFn; the core, the simulator and the tests take one
 * as a dependency and never sniff the runtime.
 */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

export interface ServeOptions {
  fetch: FetchHandler;
  /** 0 picks a free port. */
  port: number;
  hostname?: string;
}

export interface RunningServer {
  /** The port actually bound (useful with port 0). */
  port: number;
  hostname: string;
  /**
   * Stops accepting connections and closes open ones. With `drainMs`, first waits up to
   * that long for answers being written to finish (shutdown's last 503s and SSE errors).
   */
  close(opts?: { drainMs?: number }): Promise<void>;
}

export type ServeFn = (opts: ServeOptions) => Promise<RunningServer>;
