import { type SpillReason, sendToHosted } from "../backends/forward.ts";
import { type HostedDeps, hostedBackends } from "../backends/hosted.ts";
import { systemTimer } from "../clock.ts";
import { GatewayError } from "../errors.ts";
import { priorityOf } from "../flow/objectives.ts";
import { type Admitter, admit, admitted, positiveNumber, SLO_HEADER } from "./admit.ts";
import type { Exchange } from "./exchange.ts";

/** Header carrying a time-to-first-token budget in ms (as the admit stage reads it). */
/** Whether this request may leave its pool: its rule has a spill target and its priority may spill. */
function spillable(x: Exchange): boolean {
  const a = x.aigw;
  if (!a || a.spilled || a.spillTo.length === 0) return false;
  const priority = priorityOf(x.pool.config.current, x.inferenceRequest.objective);
  // Sheddable (negative) priorities never spill: they queue or are shed, as flow control says.
  return priority >= 0 && priority >= a.rule.spillMinPriority;
}

/** Sends the request to its rule's spill targets instead of its pool. */
function spill(x: Exchange, deps: HostedDeps, reason: SpillReason): Promise<Response> {
  const a = x.aigw!;
  a.spilled = true;
  return sendToHosted(x, hostedBackends(deps), {
    rule: a.rule,
    backends: a.spillTo,
    spill: { pool: x.pool.name, reason },
  });
}

/**
 * Admission, pool first and then spill (replaces the admit stage). A request whose
 * AIGatewayRoute rule puts a hosted backend behind its pool, and whose InferenceObjective
 * priority may spill, asks flow control for a slot with a budget: when the pool would make
 * it wait longer than the rule's `spill-after-ms`, or sheds it, the request goes to the
 * hosted backend instead (with its modelNameOverride). Every other request is admitted as
 * the admit stage does. Returns the hosted backend's answer when the request spilled, else
 * nothing (the request was admitted to its pool).
 */
export function admitOrSpill(deps: HostedDeps): (x: Exchange) => Promise<Response | undefined> | undefined {
  const plain = admit();
  const setTimer = deps.setTimer ?? systemTimer;
  // Not an async function itself: a request that cannot spill (the usual one) gets the admit
  // stage's own answer (undefined when admitted at once, else its promise), not a promise more.
  return function admitOrSpillStage(x) {
    return spillable(x) ? admitWithBudget(x) : plain(x);
  };

  async function admitWithBudget(x: Exchange): Promise<Response | undefined> {
    const req = x.inferenceRequest;
    const budget = new AbortController();
    let over = false;
    const cancel = setTimer(() => {
      over = true;
      budget.abort();
    }, x.aigw!.rule.spillAfterMs);
    const expectedOutputTokens = positiveNumber(req.body["max_tokens"] ?? req.body["max_completion_tokens"]);
    const deadlineMs = positiveNumber(x.headers.get(SLO_HEADER));
    let granted: Awaited<ReturnType<Admitter["admit"]>>;
    try {
      granted = await x.pool.admitter.admit({
        model: req.model,
        objective: req.objective,
        fairnessId: req.fairnessId,
        targetModel: x.targetModel.target,
        bytes: req.bytes.byteLength,
        signal: AbortSignal.any([x.signal, budget.signal]),
        ...(expectedOutputTokens ? { expectedOutputTokens } : {}),
        ...(deadlineMs ? { deadlineMs } : {}),
      });
    } catch (err) {
      if (x.signal.aborted || !(err instanceof GatewayError)) throw err;
      if (over) return spill(x, deps, "queue_budget");
      if (err.status === 429 || err.droppedReason === "rejected-no-endpoints") return spill(x, deps, "shed");
      throw err;
    } finally {
      cancel();
    }
    admitted(x, granted, undefined);
    return undefined;
  }
}

/** Error codes that mean the pool could not answer and nothing reached the client. */
const POOL_FAILED: Record<string, SpillReason> = {
  no_endpoints: "pool_failed",
  upstream_unreachable: "pool_failed",
  upstream_bad_response: "pool_failed",
  rejected_saturated: "saturated",
  rejected_ttl_expired: "shed",
};

/**
 * Spill on pool failure (right after the route stage): when every pod failed before the
 * first byte (refused, timed out, a retryOn status), the pool has no endpoint, or it was
 * saturated at scheduling, a spillable request is sent to its rule's hosted backend
 * instead of getting the error. Nothing is spilled once the client got a byte. Runs after the
 * pool stages answered `res` (`x.error` being what it was made of, if anything).
 */
export function spillOnFailure(
  deps: HostedDeps,
): (x: Exchange, res: Response) => Promise<Response> | Response {
  return function spillOnFailureStage(x, res) {
    if (!spillable(x) || x.scope.streaming) return res;
    const err = x.error;
    let reason: SpillReason | undefined;
    if (err instanceof GatewayError) reason = err.code ? POOL_FAILED[err.code] : undefined;
    else if (
      !err &&
      x.servedBy !== undefined &&
      deps.config.current.settings.upstream.retryOn.includes(res.status)
    )
      reason = "pool_failed";
    if (!reason) return res;
    return spillAfter(x, deps, res, reason);
  };
}

async function spillAfter(
  x: Exchange,
  deps: HostedDeps,
  res: Response,
  reason: SpillReason,
): Promise<Response> {
  await res.body?.cancel().catch(() => {});
  x.error = undefined;
  x.servedBy = undefined;
  return spill(x, deps, reason);
}
