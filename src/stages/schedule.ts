import type { MiddlewareHandler } from "hono";
import type { Clock } from "../clock.ts";
import type { ConfigHolder } from "../config/holder.ts";
import type { PassiveHealth } from "../endpoints/health.ts";
import type { Endpoint } from "../endpoints/types.ts";
import { usableEndpoints } from "../endpoints/usable.ts";
import type { GatewayEnv } from "../env.ts";
import { badRequest, GatewayError } from "../errors.ts";
import type { Admission } from "../request.ts";
import { gatewayHeader } from "./parse.ts";

/** What the schedule stage asks of flow control: which endpoints have room for this admitted request. */
export interface RoomFilter {
  withRoom(endpoints: readonly Endpoint[], admission: Admission): readonly Endpoint[];
}

/**
 * Orders the candidates (endpoints serving the target model) that are not ejected
 * (when every one is ejected, all are tried rather than none) and, among those, not
 * lagging (stale metrics or a failed scrape; see datalayer/freshness.ts, same fallback):
 * primary, then fallbacks. With flow control on, only endpoints with room for the
 * request's band are candidates (all, if none has), so a granted request never joins a
 * full pod's queue while another pod has a free place. A trusted key may pin
 * endpoints with `x-gateway-destination-endpoint`, but only endpoints of the pool.
 */
export function schedule(deps: {
  health: PassiveHealth;
  clock: Clock;
  config: ConfigHolder;
}): MiddlewareHandler<GatewayEnv> {
  return async function scheduleStage(c, next) {
    const target = c.get("targetModel").target;
    const serving = c.get("candidates");
    const pool = c.get("pool");
    const flow: RoomFilter | undefined = pool.flow;
    const pinned = c.get("principal")?.trustedRouting
      ? gatewayHeader(c.req.raw.headers, "destination-endpoint")
      : undefined;
    if (pinned) {
      const endpoints = pinnedEndpoints(pinned, serving);
      flow?.withRoom(endpoints, c.get("admission")); // gives back its reserved place; the pin wins
      c.set("endpoints", endpoints);
      return next();
    }
    const usable = usableEndpoints(serving, {
      health: deps.health,
      now: deps.clock.now(),
      stalenessMs: deps.config.current.settings.dataLayer.stalenessMs,
    });
    const home = c.get("responseHome");
    const holder = home ? usable.find((e) => e.name === home.endpoint) : undefined;
    if (holder) {
      // The previous response lives in that pod's memory: only it can continue the conversation.
      flow?.withRoom([holder], c.get("admission"));
      c.set("endpoints", [holder]);
      return next();
    }
    const candidates = flow ? flow.withRoom(usable, c.get("admission")) : usable;
    const { endpoints: picked, lifecycle } = pool.scheduler.schedule(
      {
        requestId: c.get("requestId"),
        targetModel: target,
        body: c.get("inferenceRequest").body,
        kind: c.get("inferenceRequest").kind,
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
