import * as v from "valibot";
import type { Endpoint } from "../../endpoints/types.ts";
import { type DroppedReason, GatewayError } from "../../errors.ts";
import type { Admission } from "../../request.ts";
import { LoadTracker } from "../../scheduling/framework/load.ts";
import { type FlowController, type FlowControllerOptions, systemSetTimer } from "./api.ts";
import { type AdmitResult, Band, QueueItem } from "./band.ts";
import {
  type BandSettings,
  checkPolicyRefs,
  FlowControlConfigSchema,
  type FlowControlSettings,
  resolveFlowControl,
} from "./config.ts";
import { bandFull, dropped, evictedInFlight, globalFull } from "./errors.ts";
import { Evictions } from "./eviction.ts";
import { poolScore, Reservations, trackedLoads } from "./saturation.ts";
import type { FlowOutcome, FlowRequest, InFlightView } from "./types.ts";

/**
 * The flow controller: admits a request at once while some endpoint has room for it
 * (its saturation score, counting what the gateway already sent, is below the band's
 * ceiling) and nothing of equal or higher priority waits; otherwise queues it in its band (priority) and
 * flow (fairness id) until capacity frees, its TTL expires, the client leaves or
 * the gateway shuts down. Event-driven: dispatch runs on arrival, on
 * `onCapacityChange()` (slot release, metrics refresh, endpoint changes) and never
 * on a timer, so an idle gateway costs nothing.
 *
 * With zero endpoints an arrival gets 503 `rejected-no-endpoints` at once, unless
 * `noEndpointRequestTTL` is set: then it queues for up to that long (llm-d's
 * scale-from-zero waiting room). Requests already queued wait (pods may be rolling), and
 * at TTL expiry (their band's `defaultRequestTTL`, else the global one) get 503 if the
 * pool is still empty, 429 `rejected-ttl-expired` otherwise.
 */
export function createFlowController(opts: FlowControllerOptions): FlowController {
  const { clock, observe = {} } = opts;
  const config = opts.config ?? v.parse(FlowControlConfigSchema, {});
  const settings: FlowControlSettings = resolveFlowControl(config);
  const policies = opts.policies;
  const setTimer = opts.setTimer ?? systemSetTimer;
  checkPolicyRefs(config, settings, policies);

  const bands = new Map<number, Band>();
  /** Bands by priority, highest first. */
  const order: Band[] = [];
  let queued = 0;
  let queuedBytes = 0;
  let dispatched = 0;
  let seq = 0;
  let closed = false;
  let dispatching = false;
  let again = false;

  const inflight: InFlightView = opts.inflight ?? { total: () => 0, get: () => 0 };
  const loads = opts.loads ?? trackedLoads(new LoadTracker(), inflight);
  const reservations = new Reservations({ detector: opts.saturation, loads });
  /** Granted requests not scheduled yet: the reservation their schedule stage gives back. */
  const unscheduled = new WeakMap<Admission, () => void>();
  const unsubscribe = opts.endpoints.onChange?.(() => dispatchQueued());
  const evictions = config.enableEviction
    ? new Evictions(
        () => clock.now(),
        setTimer,
        () => dispatchQueued(),
      )
    : undefined;
  let leaseSeq = 0;

  /** The endpoints that can take a request: those serving its model (when known) that the scheduler would use. */
  const candidatesOf = (request: Pick<FlowRequest, "targetModel">) => {
    const serving = opts.endpoints.serving?.(request.targetModel) ?? opts.endpoints.list();
    return opts.usable ? opts.usable(serving, clock.now()) : serving;
  };

  /** The configured and active bands' priorities, highest first (what a usage gate ranks). */
  function gatePriorities(): number[] {
    const all = new Set([...config.priorityBands.map((b) => b.priority), ...order.map((b) => b.priority)]);
    return [...all].sort((a, b) => b - a);
  }

  /** With a usage gate, only the highest band may skip the dispatch pass (the gate is asked per pass). */
  function gateMayHold(priority: number): boolean {
    return opts.usageGate !== undefined && gatePriorities().some((p) => p > priority);
  }

  function waitingAtOrAbove(priority: number): boolean {
    if (queued === 0) return false;
    for (const b of order) {
      if (b.priority < priority) return false;
      if (b.count > 0) return true;
    }
    return false;
  }

  /** Admits a request on the place `endpoint` has for it (reserved until it is scheduled). */
  function grant(request: FlowRequest, priority: number, queuedMs: number, endpoint: Endpoint): AdmitResult {
    const fairnessId = request.fairnessId;
    dispatched++;
    safe(() =>
      observe.queueDuration?.({
        priority,
        fairnessId,
        outcome: "dispatched",
        ms: queuedMs,
        request,
        queued: queuedMs > 0,
      }),
    );
    const unreserve = reservations.reserve(endpoint);
    const admission: Admission = { priority, fairnessId, queuedMs };
    unscheduled.set(admission, unreserve);
    const evict = request.onEvicted;
    const untrack =
      evictions && priority < 0 && evict ? evictions.track({ priority, seq: leaseSeq++, evict }) : undefined;
    let released = false;
    return {
      admission,
      slot: {
        release() {
          if (released) return;
          released = true;
          untrack?.();
          unreserve();
          dispatched--;
          dispatchQueued();
        },
      },
    };
  }

  function bandFor(s: BandSettings): Band {
    let band = bands.get(s.priority);
    if (band) return band;
    band = new Band(s, policies.fairness(s.fairnessPolicyRef)!, policies.ordering(s.orderingPolicyRef)!);
    bands.set(s.priority, band);
    let i = 0;
    while (i < order.length && order[i]!.priority > s.priority) i++;
    order.splice(i, 0, band);
    return band;
  }

  function reportSize(item: QueueItem, delta: 1 | -1): void {
    const f = item.flow;
    safe(() =>
      observe.queueSize?.({
        priority: item.priority,
        fairnessId: f.fairnessId,
        requests: f.length,
        bytes: f.bytes,
        request: item.request,
        delta,
        requestBytes: item.bytes,
      }),
    );
  }

  /** Takes a queued item out of every structure. False if it had already ended. */
  function unqueue(item: QueueItem, band: Band, asDispatch: boolean): boolean {
    if (item.ended) return false;
    item.ended = true;
    item.cancelTimer();
    item.request.signal.removeEventListener("abort", item.onAbort);
    if (!asDispatch) band.remove(item);
    queued--;
    queuedBytes -= item.bytes;
    reportSize(item, -1);
    return true;
  }

  function drop(item: QueueItem, reason: Exclude<DroppedReason, "rejected-saturated">): void {
    const band = bands.get(item.priority)!;
    if (!unqueue(item, band, false)) return;
    const waitedMs = clock.now() - item.arrivedAt;
    safe(() => observe.queueDuration?.(outcomeOf(item, reason, waitedMs)));
    const ttlPath = item.noEndpoint ? "flowControl.noEndpointRequestTTL" : band.settings.ttlPath;
    item.reject(dropped(reason, { priority: item.priority, waitedMs, ttlMs: item.ttlMs, ttlPath }));
  }

  function expire(item: QueueItem): void {
    drop(item, opts.endpoints.list().length === 0 ? "rejected-no-endpoints" : "rejected-ttl-expired");
  }

  function dispatchQueued(): void {
    if (queued === 0 || closed) return;
    if (dispatching) {
      again = true;
      return;
    }
    dispatching = true;
    const t0 = clock.now();
    try {
      do {
        again = false;
        dispatchPass();
      } while (again);
    } finally {
      dispatching = false;
      safe(() => observe.dispatchCycle?.(clock.now() - t0));
    }
  }

  /**
   * One pass over the bands, highest first. In a band, fairness chooses among the flows
   * whose head has an endpoint with room below the band's ceiling; the request is granted
   * on that place. Strict priority: the candidates of a band's heads that found no room
   * are closed to every lower band (GIE's head-of-line blocking, per endpoint), so a lower
   * band only gets endpoints no waiting higher request can use. Room only shrinks during
   * a pass (grants are synchronous, completions are not), so "no room for this model" is
   * remembered for the rest of the band's pass.
   */
  function dispatchPass(): void {
    const now = clock.now();
    const closed = new Set<Endpoint>();
    const gated = opts.usageGate?.(
      gatePriorities(),
      poolScore(opts.saturation, loads, opts.endpoints.list(), now),
    );
    for (const band of order) {
      const allowed = gated?.get(band.priority) ?? Number.POSITIVE_INFINITY;
      if (band.count === 0 || allowed <= 0) continue;
      let granted = 0;
      const ceiling = band.settings.ceiling;
      const full = new Set<string>();
      const placeFor = (item: QueueItem) =>
        full.has(item.request.targetModel)
          ? undefined
          : reservations.find(candidatesOf(item.request), ceiling, now, closed);
      const eligible = (item: QueueItem) => {
        if (placeFor(item)) return true;
        full.add(item.request.targetModel);
        return false;
      };
      // A gated band stops at its allowance without asking fairness for one more (choosing may move a cursor).
      const next = () => (granted < allowed ? band.choose(eligible) : undefined);
      for (let item = next(); item; item = next()) {
        granted++;
        const endpoint = placeFor(item)!;
        band.remove(item, true);
        unqueue(item, band, true);
        item.resolve(grant(item.request, item.priority, now - item.arrivedAt, endpoint));
      }
      // Still waiting for room: end a sheddable request in flight, if eviction is on.
      if (band.count > 0 && evictions)
        evictions.relieve(band.priority, (victim) => evictedInFlight(victim.priority, band.priority));
      // Once per model, not per flow: thousands of client-chosen fairness ids waiting on
      // one model would otherwise cost flows x endpoints on every completion.
      const models = new Set<string>();
      for (const flow of band.flowsSnapshot()) models.add(flow.head().request.targetModel);
      for (const model of models) for (const e of candidatesOf({ targetModel: model })) closed.add(e);
      if (closed.size >= opts.endpoints.list().length) return;
    }
  }

  /** Makes room under the global limits by evicting the newest lower-priority requests, if they suffice. */
  function evictFor(priority: number, bytes: number): boolean {
    const over = () => queued + 1 > settings.maxRequests || queuedBytes + bytes > settings.maxBytes;
    let lowerCount = 0;
    let lowerBytes = 0;
    for (const b of order)
      if (b.priority < priority) {
        lowerCount += b.count;
        lowerBytes += b.bytes;
      }
    if (
      lowerCount < queued + 1 - settings.maxRequests ||
      lowerBytes < queuedBytes + bytes - settings.maxBytes
    )
      return false;
    for (let i = order.length - 1; i >= 0 && over(); i--) {
      const band = order[i]!;
      if (band.priority >= priority) break;
      while (band.last && over()) drop(band.last, "evicted");
    }
    return true;
  }

  /** Queues the request; `noEndpointTtlMs` when it arrived to an empty pool (it waits that long for one). */
  function enqueue(request: FlowRequest, s: BandSettings, noEndpointTtlMs?: number): Promise<AdmitResult> {
    const band = bandFor(s);
    const bytes = request.bytes;
    if (band.count + 1 > s.maxRequests || band.bytes + bytes > s.maxBytes)
      throw bandFull(s, { count: band.count, bytes: band.bytes }, bytes);
    if (queued + 1 > settings.maxRequests || queuedBytes + bytes > settings.maxBytes) {
      if (!evictFor(s.priority, bytes)) throw globalFull(settings, { count: queued, bytes: queuedBytes });
    }
    return new Promise<AdmitResult>((resolve, reject) => {
      const now = clock.now();
      const flow = band.flow(request.fairnessId);
      const ttlMs = noEndpointTtlMs ?? s.ttlMs;
      const item = new QueueItem(request, s.priority, bytes, now, ttlMs, seq++, flow);
      item.noEndpoint = noEndpointTtlMs !== undefined;
      item.resolve = resolve;
      item.reject = reject;
      band.add(item);
      queued++;
      queuedBytes += bytes;
      item.onAbort = () => drop(item, "rejected-context-cancelled");
      request.signal.addEventListener("abort", item.onAbort, { once: true });
      item.cancelTimer = setTimer(() => expire(item), ttlMs);
      reportSize(item, 1);
      dispatchQueued();
    });
  }

  function arrive(request: FlowRequest, priority: number): AdmitResult | Promise<AdmitResult> {
    if (closed) throw dropped("rejected-shutting-down", { priority: 0, waitedMs: 0, ttlMs: 0 });
    const info = { priority, waitedMs: 0, ttlMs: settings.ttlMs };
    if (request.signal.aborted) throw dropped("rejected-context-cancelled", info);
    const s = settings.band(priority);
    if (opts.endpoints.list().length === 0) {
      // llm-d's scale-from-zero waiting room: only when noEndpointRequestTTL is set.
      if (settings.noEndpointTtlMs === undefined) throw dropped("rejected-no-endpoints", info);
      return enqueue(request, s, settings.noEndpointTtlMs);
    }
    // Hot path: room on a candidate endpoint and nobody ahead: no queue structures at all.
    const place =
      waitingAtOrAbove(priority) || gateMayHold(priority)
        ? undefined
        : reservations.find(candidatesOf(request), s.ceiling, clock.now());
    if (place) return grant(request, priority, 0, place);
    return enqueue(request, s);
  }

  return {
    async admit(request) {
      const t0 = clock.now();
      const priority = closed ? 0 : opts.priorityOf(request.objective);
      const fairnessId = request.fairnessId;
      let result: AdmitResult | Promise<AdmitResult>;
      try {
        result = arrive(request, priority);
      } catch (err) {
        // Refused on arrival; a queued request that is dropped later reports from drop().
        const reason = err instanceof GatewayError ? err.droppedReason : undefined;
        if (reason) {
          const ms = clock.now() - t0;
          safe(() => observe.enqueue?.({ priority, fairnessId, outcome: reason, ms }));
          safe(() =>
            observe.queueDuration?.({ priority, fairnessId, outcome: reason, ms, request, queued: false }),
          );
        }
        throw err;
      }
      const outcome = result instanceof Promise ? "queued" : "dispatched";
      safe(() => observe.enqueue?.({ priority, fairnessId, outcome, ms: clock.now() - t0 }));
      return result;
    },
    onCapacityChange: dispatchQueued,
    withRoom(endpoints, admission) {
      // Being scheduled now: its reserved place becomes in-flight in this same tick.
      unscheduled.get(admission)?.();
      unscheduled.delete(admission);
      const open = reservations.withRoom(endpoints, settings.band(admission.priority).ceiling, clock.now());
      return open.length > 0 ? open : endpoints;
    },
    shutdown() {
      if (closed) return;
      closed = true;
      unsubscribe?.();
      for (const band of order) while (band.first) drop(band.first, "rejected-shutting-down");
    },
    stats() {
      return {
        queued,
        queuedBytes,
        dispatched,
        shuttingDown: closed,
        bands: order.map((b) => ({
          priority: b.priority,
          requests: b.count,
          bytes: b.bytes,
          flows: b
            .flowsSnapshot()
            .map((f) => ({ fairnessId: f.fairnessId, requests: f.length, bytes: f.bytes }))
            .sort((x, y) => (x.fairnessId < y.fairnessId ? -1 : x.fairnessId > y.fairnessId ? 1 : 0)),
        })),
      };
    },
  };
}

function outcomeOf(item: QueueItem, outcome: FlowOutcome, ms: number) {
  return {
    priority: item.priority,
    fairnessId: item.request.fairnessId,
    outcome,
    ms,
    request: item.request,
    queued: true,
  };
}

function safe(fn: () => void): void {
  try {
    fn();
  } catch {
    // Metric hooks must not break the queue's bookkeeping.
  }
}
