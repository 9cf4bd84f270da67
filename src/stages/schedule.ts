import type { Clock } from "../clock.ts";
import type { ConfigHolder } from "../config/holder.ts";
import type { PassiveHealth } from "../endpoints/health.ts";
import type { Endpoint } from "../endpoints/types.ts";
import { usableEndpoints } from "../endpoints/usable.ts";
import { badRequest, GatewayError } from "../errors.ts";
import type { Admission } from "../request.ts";
import type { Releasable } from "../scope.ts";
import type { Exchange } from "./exchange.ts";
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
}): (x: Exchange) => void {
  /** usableEndpoints' options, refilled each request (read at once, never kept): no object a request. */
  const usableOpts: Parameters<typeof usableEndpoints>[1] = {
    health: deps.health,
    now: 0,
    stalenessMs: 0,
    columns: undefined,
  };
  return function scheduleStage(x) {
    const target = x.targetModel.target;
    const serving = x.candidates;
    const pool = x.pool;
    const flow: RoomFilter | undefined = pool.flow;
    const pinned = x.principal?.trustedRouting ? gatewayHeader(x.headers, "destination-endpoint") : undefined;
    if (pinned) {
      const endpoints = pinnedEndpoints(pinned, serving);
      flow?.withRoom(endpoints, x.admission!); // gives back its reserved place; the pin wins
      x.endpoints = endpoints;
      return;
    }
    usableOpts.now = deps.clock.now();
    usableOpts.stalenessMs = deps.config.current.settings.dataLayer.stalenessMs;
    usableOpts.columns = pool.endpoints.columns;
    const usable = usableEndpoints(serving, usableOpts);
    const home = x.responseHome;
    const holder = home ? usable.find((e) => e.name === home.endpoint) : undefined;
    if (holder) {
      // The previous response lives in that pod's memory: only it can continue the conversation.
      flow?.withRoom([holder], x.admission!);
      x.endpoints = [holder];
      return;
    }
    const candidates = flow ? flow.withRoom(usable, x.admission!) : usable;
    const { endpoints: picked, lifecycle } = pool.scheduler.schedule(
      {
        requestId: x.requestId,
        targetModel: target,
        body: x.inferenceRequest.body,
        kind: x.inferenceRequest.kind,
        headers: x.headers,
      },
      candidates,
      // The PreRequest hooks and the decision's metrics run when forward has made the pod
      // call (lifecycle.requestSent), in this same synchronous turn.
      true,
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
    x.endpoints = picked;
    if (lifecycle) {
      x.lifecycle = lifecycle;
      // Ends with the request, answered or not: plugins give back what they took.
      // The framework's lifecycle is releasable itself (no closure per request); another
      // scheduler's is wrapped.
      const releasable = lifecycle as Partial<Releasable>;
      x.scope.hold(
        typeof releasable.release === "function"
          ? (releasable as Releasable)
          : { release: (outcome) => lifecycle.responseComplete(outcome) },
      );
    }
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
