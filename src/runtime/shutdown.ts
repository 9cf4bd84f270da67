import { type Clock, type SetTimer, systemClock, systemTimer } from "../clock.ts";
import type { Gateway } from "../gateway.ts";
import type { Logger } from "../log.ts";
import type { RunningServer } from "./server.ts";

export interface DrainOptions {
  gateway: Pick<Gateway, "deps" | "stop">;
  server: RunningServer;
  /** How long running and queued requests may finish on their own. */
  graceMs: number;
  /** After the grace: how long the last answers (503s, SSE error events) may take to be written. */
  flushMs?: number;
  logger: Logger;
  /** Called once the grace is over, before the gateway stops (e.g. stop Kubernetes watches). */
  beforeStop?: () => Promise<void> | void;
  clock?: Clock;
  setTimer?: SetTimer;
  /** How often the grace loop looks at what is left. */
  pollMs?: number;
}

/**
 * Graceful shutdown, in the order that lets every client read an answer:
 *
 * 1. fail readiness and refuse new requests (503 `rejected-shutting-down`);
 * 2. let running and queued requests finish, up to `graceMs`;
 * 3. stop the gateway: queued requests get their 503 body, running streams an SSE error
 *    event, running non-streamed requests a 503 body (no header was sent yet);
 * 4. close the server only once those answers are written (at most `flushMs`), so no
 *    client sees a connection reset.
 */
export async function drainAndStop(opts: DrainOptions): Promise<void> {
  const { gateway, logger } = opts;
  const clock = opts.clock ?? systemClock;
  const setTimer = opts.setTimer ?? systemTimer;
  const deps = gateway.deps;
  deps.lifecycle.shuttingDown = true;
  const queued = () => deps.pools.queued();
  const busy = () => deps.inflight.total() + queued();
  const deadline = clock.now() + opts.graceMs;
  for (;;) {
    // One reading for the test and the wait: read twice, the wait could come out a hair below
    // zero (Bun then warns of a negative timeout on stderr).
    const now = clock.now();
    if (busy() === 0 || now >= deadline) break;
    const wait = Math.min(opts.pollMs ?? 50, deadline - now);
    await new Promise<void>((resolve) => setTimer(resolve, wait));
  }
  const left = busy();
  if (left > 0)
    logger.warn("shutdown grace period over: ending the requests still running or queued", {
      running: deps.inflight.total(),
      queued: queued(),
    });
  await opts.beforeStop?.();
  await gateway.stop();
  await opts.server.close({ drainMs: opts.flushMs ?? 2000 });
}
