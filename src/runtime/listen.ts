import type { RunningServer, ServeFn, ServeOptions } from "./server.ts";

/**
 * A listener that could not bind, said the gateway's way: which listener (the gateway, a
 * simulated pod), which address, and what to change. Runtimes word this differently (Deno
 * does not even name the port), so the entry prints this instead of their exception.
 */
export class ListenError extends Error {
  constructor(what: string, hostname: string, port: number, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const code = (cause as { code?: unknown } | undefined)?.code;
    const inUse = code === "EADDRINUSE" || /in use|AddrInUse/i.test(`${String(code)} ${reason}`);
    super(
      `${what} cannot listen on ${hostname}:${port}: ` +
        (inUse
          ? "the port is already in use by another process; stop it or choose another port"
          : `${reason}; check the address and port`),
    );
    this.name = "ListenError";
  }
}

/** `serve`, with a bind failure turned into a ListenError naming `what` is listening. */
export async function listen(serve: ServeFn, opts: ServeOptions, what: string): Promise<RunningServer> {
  try {
    return await serve(opts);
  } catch (err) {
    throw new ListenError(what, opts.hostname ?? "0.0.0.0", opts.port, err);
  }
}
