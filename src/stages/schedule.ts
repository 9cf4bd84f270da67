import type { MiddlewareHandler } from "hono";
import type { Clock } from "../clock.ts";
import type { ConfigHolder } from "../config/holder.ts";
import { preferFresh } from "../datalayer/freshness.ts";
import type { PassiveHealth } from "../endpoints/health.ts";
import type { Endpoint } from "../endpoints/types.ts";
import type { GatewayEnv } from "../env.ts";
import { badRequest, GatewayError } from "../errors.ts";
import type { Admission } from "../request.ts";
import type { Scheduler } from "../scheduling/types.ts";
import { gatewayHeader } from "./parse.ts";

/** What the schedule stage asks of flow control: which endpoints have room for this admitted request. */
export interface RoomFilter {
  withRoom(endpoints: readonly Endpoint[], admission: Admission): readonly Endpoint[];
}

/**
 * Orders the usable candidates (`usableEndpoints`: not ejected, with room for the
 * request's band when flow control is on, not lagging; each step keeps all when it would
 * keep none): primary, then fallbacks. So a granted request never joins a full pod's
 * queue while another pod has a free place. A trusted key may pin
 * endpoints with `x-gateway-destination-endpoint`, but only endpoints of the pool.
 */
export function schedule(deps: {
  scheduler: Scheduler;
  health: PassiveHealth;
  clock: Clock;
  config: ConfigHolder;
  /** Flow control, when on. */
  flow?: RoomFilter | undefined;
}): MiddlewareHandler<GatewayEnv> {
  return async function scheduleStage(c, next) {
    const target = c.get("targetModel").target;
    const serving = c.get("candidates");
    const pinned = c.get("principal")?.trustedRouting
      ? gatewayHeader(c.req.raw.headers, "destination-endpoint")
      : undefined;
    if (pinned) {
      const endpoints = pinnedEndpoints(pinned, serving);
      deps.flow?.withRoom(endpoints, c.get("admission")); // gives back its reserved place; the pin wins
      c.set("endpoints", endpoints);
      return next();
    }
    const candidates = usableEndpoints(serving, {
      ...deps,
      admission: c.get("admission"),
      stalenessMs: deps.config.current.settings.dataLayer.stalenessMs,
    });
    const { endpoints: picked, lifecycle } = deps.scheduler.schedule(
      {
        requestId: c.get("requestId"),
        targetModel: target,
        body: c.get("inferenceRequest").body,
        headers: c.req.raw.headers,
      },
      candidates,
    );
    if (picked.length === 0) {
      throw new GatewayError({
        status: 429,
        message: "Every endpoint that serves this model is saturated; retry later.",
        code: "rejected_saturated",
        droppedReason: "rejected-saturated",
        headers: { "retry-after": "1" },
      });
    }
    c.set("endpoints", picked);
    if (lifecycle) {
      c.set("lifecycle", lifecycle);
      // Ends with the request, answered or not: plugins give back what they took.
      c.get("scope").hold({ release: (outcome) => lifecycle.responseComplete(outcome) });
    }
    await next();
  };
}

/**
 * The candidates the scheduler picks from: not ejected (all, if every one is), then, with
 * flow control on, those with room for the request's band (all, if none has), then among
 * those the ones not lagging (all, if every one lags). Room comes before freshness because
 * flow control granted this request on a place some candidate has: a pod whose scrape is
 * merely late but has room must stay a candidate, or the request would be sent into a
 * full fresh pod's queue. So flow control and the scheduler follow one rule for which pods
 * can take a request.
 */
export function usableEndpoints(
  serving: readonly Endpoint[],
  deps: {
    health: Pick<PassiveHealth, "allHealthy" | "isEjected">;
    clock: Clock;
    stalenessMs: number;
    admission: Admission;
    flow?: RoomFilter | undefined;
  },
): readonly Endpoint[] {
  const healthy = deps.health.allHealthy ? serving : serving.filter((e) => !deps.health.isEjected(e.name));
  const pool = healthy.length > 0 ? healthy : serving;
  const open = deps.flow ? deps.flow.withRoom(pool, deps.admission) : pool;
  return preferFresh(open, deps.clock.now(), deps.stalenessMs);
}

/** `ip:port[,ip:port...]` → endpoints of the pool serving the model, in that order; anything else is refused. */
function pinnedEndpoints(header: string, serving: readonly Endpoint[]): Endpoint[] {
  const out: Endpoint[] = [];
  for (const address of header
    .split(",")
    .map((a) => a.trim())
    .filter(Boolean)) {
    const e = serving.find((x) => x.address === address);
    if (!e)
      throw badRequest(
        `x-gateway-destination-endpoint names '${address}', which is not an endpoint of this pool serving the model.`,
        null,
        "invalid_destination_endpoint",
      );
    out.push(e);
  }
  if (out.length === 0)
    throw badRequest("x-gateway-destination-endpoint is empty.", null, "invalid_destination_endpoint");
  return out;
}
