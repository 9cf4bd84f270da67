import { Hono, type MiddlewareHandler } from "hono";
import { KeyRing, presentedKey } from "../src/auth/keys.ts";
import { type SetTimer, systemTimer } from "../src/clock.ts";
import type { GatewayConfig } from "../src/config/load.ts";
import type { GatewayDeps } from "../src/deps.ts";
import type { GatewayEnv } from "../src/env.ts";
import { GatewayError } from "../src/errors.ts";
import type { AfterAnswer } from "../src/observability/after-answer.ts";
import { dashboardPage } from "../src/observability/page/index.ts";
import type { RequestSummary } from "../src/observability/recent.ts";
import { type DashboardSnapshot, dashboardSnapshot } from "../src/observability/snapshot.ts";
import { requireMetricsKey } from "../src/stages/authenticate.ts";

/** Bounds and default of `/dashboard/events?interval=<ms>`. */
export const EVENT_INTERVAL_MS = { min: 100, max: 5000, default: 500 } as const;

/** The `data` of one `snapshot` event. */
export interface DashboardEvent {
  /** Every pool: its saturation, flow control, endpoints and queues (see DashboardSnapshot). */
  snapshot: DashboardSnapshot;
  /** Sums of `inference_objective_request_total` and `_request_error_total`, as /metrics shows them. */
  totals: { requests: number; errors: number };
  /** Requests finished since the client's last event (`seq` is also the event's `id`). */
  recent: { seq: number; items: RequestSummary[] };
}

type DashboardDeps = Pick<
  GatewayDeps,
  "pools" | "inflight" | "health" | "metrics" | "config" | "clock" | "setTimer" | "recent" | "logger"
> & { afterAnswer?: Pick<AfterAnswer, "drain"> };

/**
 * The live dashboard: `GET /dashboard` (one self-contained page) and `GET /dashboard/events`
 * (server-sent events, one `snapshot` event per `?interval=` ms, 100..5000, default 500).
 * Each event carries every pool the gateway serves; the page shows one pool's details at
 * a time (`/dashboard?pool=<name>` opens on that one) and all pools at a glance.
 *
 * Protected like /metrics (`auth.metricsKeys`). A browser's EventSource cannot send
 * headers, so both routes also take the key as `?key=<metrics key>`: open
 * `/dashboard?key=...` and the page passes it on to its stream. The page is sent with
 * `referrer-policy: no-referrer` and loads nothing else, so the key goes nowhere but here.
 *
 * Each stream is pull-based: an event is computed only when the client has taken the
 * previous one, the one timer waits for the interval, and both stop when the client goes.
 * Nobody watching means no work at all.
 */
export function dashboardRoutes(deps: DashboardDeps): Hono<GatewayEnv> {
  const guard = dashboardKey({ config: () => deps.config.current });
  return new Hono<GatewayEnv>()
    .get("/dashboard", guard, async (c) => {
      const page = await dashboardPage();
      return c.body(page.html, 200, {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": page.contentSecurityPolicy,
        "referrer-policy": "no-referrer",
        "x-content-type-options": "nosniff",
        "cache-control": "no-store",
      });
    })
    .get("/dashboard/events", guard, (c) => {
      const interval = clampInterval(c.req.query("interval"));
      let seq = Number(c.req.query("since") ?? c.req.header("last-event-id") ?? 0);
      if (!Number.isSafeInteger(seq) || seq < 0) seq = 0;
      const next = async () => {
        // Answers already sent whose records wait for the loop's turn (afterAnswer) count too.
        deps.afterAnswer?.drain();
        let recent = deps.recent.since(seq);
        // A seq ahead of the ring's means the gateway restarted: send everything it has.
        if (recent.seq < seq) recent = deps.recent.since(0);
        seq = recent.seq;
        const event: DashboardEvent = {
          snapshot: await dashboardSnapshot(deps),
          totals: await totals(deps),
          recent,
        };
        return `id: ${recent.seq}\nevent: snapshot\ndata: ${JSON.stringify(event)}\n\n`;
      };
      const onError = (err: unknown) => deps.logger.warn("dashboard stream failed", { error: String(err) });
      const body = eventStream({
        interval,
        next,
        signal: c.req.raw.signal,
        onError,
        setTimer: deps.setTimer,
      });
      return c.body(body, 200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      });
    });
}

function clampInterval(raw: string | undefined): number {
  const ms = Number(raw);
  if (raw === undefined || raw === "" || !Number.isFinite(ms)) return EVENT_INTERVAL_MS.default;
  return Math.min(EVENT_INTERVAL_MS.max, Math.max(EVENT_INTERVAL_MS.min, Math.round(ms)));
}

async function totals(deps: Pick<GatewayDeps, "metrics">): Promise<DashboardEvent["totals"]> {
  const sum = (values: { value: number }[]) => values.reduce((s, v) => s + v.value, 0);
  const [requests, errors] = await Promise.all([deps.metrics.requests.get(), deps.metrics.errors.get()]);
  return { requests: sum(requests.values), errors: sum(errors.values) };
}

const encoder = new TextEncoder();

/**
 * An SSE body that computes the next event only when the client pulls (highWaterMark 0):
 * the first at once, then one per `interval` ms. Cancel (client gone) or the request's
 * abort signal clears the pending timer; nothing is left scheduled. The wait runs on the
 * gateway's injected timers, so tests pace a stream with fake time instead of sleeping.
 */
export function eventStream(opts: {
  interval: number;
  next: () => Promise<string>;
  signal?: AbortSignal;
  onError?: (err: unknown) => void;
  setTimer?: SetTimer;
}): ReadableStream<Uint8Array> {
  const setTimer = opts.setTimer ?? systemTimer;
  let cancelTimer: (() => void) | undefined;
  let wake: (() => void) | undefined;
  let first = true;
  let closed = false;
  const stop = () => {
    closed = true;
    cancelTimer?.();
    cancelTimer = undefined;
    wake?.();
  };
  opts.signal?.addEventListener("abort", stop, { once: true });
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        // Stopped before this pull began (an abort between two reads): no wait, no timer left.
        if (!first && !closed)
          await new Promise<void>((resolve) => {
            wake = resolve;
            cancelTimer = setTimer(resolve, opts.interval);
          });
        const retry = first ? `retry: 2000\n` : "";
        first = false;
        try {
          const text = closed ? undefined : await opts.next();
          if (text !== undefined && !closed) {
            controller.enqueue(encoder.encode(retry + text));
            return;
          }
        } catch (err) {
          opts.onError?.(err);
          stop();
        }
        try {
          controller.close();
        } catch {
          // already cancelled by the client
        }
      },
      cancel: stop,
    },
    { highWaterMark: 0 },
  );
}

/**
 * `requireMetricsKey`, plus the key as `?key=` when no Authorization / x-api-key header is
 * sent (EventSource and a browser's address bar cannot send headers).
 */
function dashboardKey(deps: { config: () => GatewayConfig }): MiddlewareHandler<GatewayEnv> {
  const byHeader = requireMetricsKey(deps);
  return async function dashboardAuth(c, next) {
    const key = c.req.query("key");
    if (key === undefined || presentedKey(c.req.raw.headers)) return byHeader(c, next);
    const hashes = deps.config().settings.auth.metricsKeys;
    if (hashes.length > 0 && !(await KeyRing.matchesAny(key, hashes))) {
      throw new GatewayError({
        status: 401,
        message: "Invalid metrics key.",
        code: "invalid_api_key",
        headers: { "www-authenticate": 'Bearer realm="inference-gateway"' },
      });
    }
    await next();
  };
}
