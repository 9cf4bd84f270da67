import type { GatewayError } from "../errors.ts";
import { priorityOf } from "../flow/objectives.ts";
import type { Admission } from "../request.ts";
import type { Releasable } from "../scope.ts";
import { Eviction } from "./evictable.ts";
import type { Exchange } from "./exchange.ts";

/** What the admit stage sends to flow control. */
export interface AdmissionRequest {
  /** The model the client asked for (labels flow-control metrics). */
  readonly model?: string;
  readonly objective: string | undefined;
  readonly fairnessId: string;
  readonly targetModel: string;
  readonly bytes: number;
  /** Aborts when the client goes away while waiting. */
  readonly signal: AbortSignal;
  /** The request's max_tokens, for work-based fairness. */
  readonly expectedOutputTokens?: number;
  /** Latency budget from arrival (ms), for deadline ordering. */
  readonly deadlineMs?: number;
  /**
   * Ends the request after admission when flow control evicts it (enableEviction, negative
   * priority); called at most once, with the error the client gets.
   */
  readonly onEvicted?: (err: GatewayError) => void;
}

/**
 * The narrow interface the admit stage needs: resolves when the request may go on
 * (with a slot to release when it ends), or throws a GatewayError (429/503).
 */
export interface Admitter {
  admit(request: AdmissionRequest): Promise<{ admission: Admission; slot: Releasable }>;
  /**
   * The same answer without a promise, for an admitter that never waits (flow control off,
   * src/flow/gate-off.ts): the admit stage then goes on in the same turn, with no async frame,
   * promise or microtask of its own or the admitter's (issue 19, sixth pass).
   */
  admitNow?(request: AdmissionRequest): { admission: Admission; slot: Releasable };
}

/** Header carrying a time-to-first-token budget in ms (llm-d's spelling); sets the EDF deadline. */
export const SLO_HEADER = "x-slo-ttft-ms";

/** A finite number above 0 (a numeric string too), else undefined. */
export function positiveNumber(v: unknown): number | undefined {
  const n = typeof v === "string" ? Number(v) : v;
  return typeof n === "number" && Number.isFinite(n) && n > 0 ? n : undefined;
}

/**
 * The admission request of one exchange. `signal` is read from the exchange only when
 * asked (flow control does, the gate-off admitter never does): under Node the client's
 * AbortSignal is built on first read, and a request whose client stays needs none.
 * Absent and undefined read alike (`??`): one shape, no spread per request.
 */
class ExchangeAdmission implements AdmissionRequest {
  readonly model: string | undefined;
  readonly objective: string | undefined;
  readonly fairnessId: string;
  readonly targetModel: string;
  readonly bytes: number;
  readonly #x: Exchange;

  constructor(
    x: Exchange,
    readonly expectedOutputTokens: number | undefined,
    readonly deadlineMs: number | undefined,
    readonly onEvicted: ((err: GatewayError) => void) | undefined,
  ) {
    const req = x.inferenceRequest;
    this.model = req.model;
    this.objective = req.objective;
    this.fairnessId = req.fairnessId;
    this.targetModel = x.targetModel.target;
    this.bytes = req.bytes.byteLength;
    this.#x = x;
  }

  get signal(): AbortSignal {
    return this.#x.signal;
  }
}

/**
 * Admission: asks flow control for a slot and holds it until the request ends. A request
 * flow control may evict (negative priority) leaves its Eviction in `x.eviction`, for the
 * pipeline to settle after the stages that follow. An admitter that never waits
 * (`admitNow`) is answered in the same turn: the stage returns undefined then, not a promise;
 * a refusal is thrown as it is.
 */
export function admit(): (x: Exchange) => Promise<undefined> | undefined {
  return function admitStage(x) {
    const req = x.inferenceRequest;
    const expectedOutputTokens = positiveNumber(req.body["max_tokens"] ?? req.body["max_completion_tokens"]);
    const deadlineMs = positiveNumber(x.headers.get(SLO_HEADER));
    // Only sheddable (negative) priorities can be evicted (flow control judges the objective's
    // priority the same way): the others make no Eviction at all.
    const eviction = priorityOf(x.pool.config.current, req.objective) < 0 ? new Eviction() : undefined;
    const request = new ExchangeAdmission(x, expectedOutputTokens, deadlineMs, eviction?.evict);
    const admitter = x.pool.admitter;
    if (admitter.admitNow !== undefined) {
      admitted(x, admitter.admitNow(request), eviction);
      return undefined;
    }
    return admitLater(x, admitter.admit(request), eviction);
  };
}

async function admitLater(
  x: Exchange,
  granted: Promise<{ admission: Admission; slot: Releasable }>,
  eviction: Eviction | undefined,
): Promise<undefined> {
  admitted(x, await granted, eviction);
  return undefined;
}

/** Holds the slot, notes the priority and queue time, and arms an eviction where one applies. */
export function admitted(
  x: Exchange,
  granted: { admission: Admission; slot: Releasable },
  eviction: Eviction | undefined,
): void {
  const { admission, slot } = granted;
  const scope = x.scope;
  scope.hold(slot);
  scope.log.priority = admission.priority;
  scope.log.queueMs = Math.round(admission.queuedMs * 100) / 100;
  x.admission = admission;
  // Only sheddable (negative) priorities can be evicted: the others pay nothing more.
  if (admission.priority >= 0 || !eviction) return;
  eviction.arm(x);
  x.eviction = eviction;
}
