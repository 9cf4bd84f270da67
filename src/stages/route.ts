import { BACKEND_HEADER, chosenBackend } from "../aigw/choose.ts";
import { Deadline } from "../aigw/deadline.ts";
import { backendOrder, matchRule } from "../aigw/match.ts";
import type { CompiledRule, RuleBackend } from "../aigw/types.ts";
import { sendToHosted } from "../backends/forward.ts";
import { type HostedBackends, type HostedDeps, hostedBackends } from "../backends/hosted.ts";
import type { Random } from "../clock.ts";
import { badRequest, GatewayError, quoted } from "../errors.ts";
import type { ResponseHomes } from "../openai/response-homes.ts";
import type { Pool } from "../pools/pool.ts";
import type { PoolSet } from "../pools/set.ts";
import type { Exchange } from "./exchange.ts";
import { MAX_FAIRNESS_ID_LENGTH } from "./parse.ts";

/**
 * Picks where the request goes. With AIGatewayRoute documents, the first rule whose
 * headers match (`x-ai-eg-model` is the body's model) decides: its backends in priority
 * order, by weight within a priority. A hosted backend (AIServiceBackend) first: the
 * request is sent there now and the pool stages are skipped. An InferencePool first: the
 * request continues in that pool, and the rule's hosted backends behind it become its spill
 * targets (x.aigw). Without route documents, or when no rule matches, the pool is the
 * model's, as BBR (body model → header) and an HTTPRoute per pool would pick it
 * (`PoolSet.route`): a model no pool serves is a 404 naming what the client asked for.
 * A Responses API request with a `previous_response_id` this gateway saw answered goes to
 * that response's pool (and the schedule stage to its pod), whatever its model routes to.
 * The request counts as the pool's until it ends, so a pool removed by a reload finishes
 * it before stopping. A request that sent no fairness id gets the one its pool's
 * PreAdmission plugins derive (e.g. agent-identity). Returns the hosted backend's answer when
 * one answered, else nothing (the pool stages go on); a rule's `timeouts.request` is left in
 * `x.deadline`, for the pipeline to settle after them.
 */
export function route(
  deps: HostedDeps & { pools: PoolSet; random: Random; responseHomes: ResponseHomes },
): (x: Exchange) => Promise<Response> | undefined {
  const hosted = hostedBackends(deps);
  return function routeStage(x) {
    const req = x.inferenceRequest;
    const routes = deps.config.current.routes;
    const rule = routes ? matchRule(routes, { headers: x.headers, model: req.model }) : undefined;
    let pool: Pool | undefined;
    if (rule) {
      const deadline =
        rule.requestTimeoutMs !== undefined
          ? new Deadline(x, rule.requestTimeoutMs, deps.setTimer)
          : undefined;
      x.deadline = deadline;
      const order = ruleOrder(x, rule, hosted, deps);
      const first = order[0];
      if (!first)
        throw new GatewayError({
          status: 503,
          message:
            rule.backends.length === 0
              ? `The route rule ${rule.id} has no backendRefs: add one (an AIServiceBackend or an InferencePool) to serve its requests.`
              : `The route rule ${rule.id} has no backend that takes traffic (every weight is 0).`,
          code: "no_backend",
        });
      if (first.target.kind === "hosted") {
        authorizeHosted(x, req.model);
        x.aigw = { rule, spillTo: [], spilled: true };
        return sendToHosted(x, hosted, { rule, backends: order }).catch((err) => {
          throw deadline?.passed && err instanceof GatewayError && err.status === 499
            ? deadline.error()
            : err;
        });
      }
      pool = deps.pools.get(first.target.pool);
      if (!pool)
        throw new GatewayError({
          status: 503,
          message: `The InferencePool ${quoted(first.target.pool)} that ${rule.id} names is not known yet (Kubernetes discovery has not seen it).`,
          code: "no_endpoints",
          droppedReason: "rejected-no-endpoints",
        });
      const spillTo = order.filter((b) => b.target.kind === "hosted" && b.priority > first.priority);
      x.aigw = { rule, spillTo };
    } else {
      // A Responses API turn that continues a stored response goes where that response lives,
      // if that pool serves the turn's model; a turn switching to another pool's model is
      // routed by its model (that pod then says whether it knows the id, as vLLM does).
      const home = req.previousResponseId ? deps.responseHomes.find(req.previousResponseId) : undefined;
      const homePool = home ? servingPool(deps.pools.get(home.pool), req.model) : undefined;
      if (home && homePool) x.responseHome = home;
      pool = homePool ?? deps.pools.route(req.model, req.modelRewriteHeader);
    }
    if (!pool)
      throw new GatewayError({
        status: 404,
        message: `The model ${quoted(req.model)} does not exist: no pool of this gateway serves it. GET /v1/models lists the models served.`,
        param: "model",
        code: "model_not_found",
      });
    x.pool = pool;
    x.scope.hold(pool.enter());
    const headers = x.headers;
    if (!x.principal?.tenant && !x.fairnessIdSent) {
      const derived = pool.scheduler.fairnessIdFor(headers);
      if (derived) {
        if (derived.length > MAX_FAIRNESS_ID_LENGTH)
          throw badRequest(
            `The agent session header the fairness id is derived from is ${derived.length} characters long; at most ${MAX_FAIRNESS_ID_LENGTH} are accepted. Send a shorter session id, or an x-gateway-inference-fairness-id header.`,
            null,
            "invalid_fairness_id",
          );
        x.inferenceRequest = { ...req, fairnessId: derived };
      }
    }
    return undefined;
  };
}

/** `pool` when it serves `model` (its endpoints or a rewrite rule of its), else undefined. */
function servingPool(pool: Pool | undefined, model: string): Pool | undefined {
  if (!pool) return undefined;
  const serves = pool.endpoints.serving(model).length > 0 || pool.config.current.rewriteTable.match(model);
  return serves ? pool : undefined;
}

/** The rule's backends in the order to try: the client's choice alone, else priority and weight (ejected hosted ones last). */
function ruleOrder(
  x: Exchange,
  rule: CompiledRule,
  hosted: HostedBackends,
  deps: HostedDeps & { random: Random },
): RuleBackend[] {
  const chosen = chosenBackend(rule, {
    enabled: deps.config.current.settings.clientBackendSelection,
    header: x.headers.get(BACKEND_HEADER),
    principal: x.principal,
  });
  if (chosen) return [chosen];
  return backendOrder(
    rule,
    deps.random,
    (b) => b.target.kind === "hosted" && hosted.health.isEjected(b.name),
  );
}

/**
 * A key limited to some models may use a hosted backend only for a model in its list (the
 * operator's modelNameOverride is the operator's choice, as an InferenceModelRewrite is).
 */
function authorizeHosted(x: Exchange, model: string): void {
  const allowed = x.principal?.models;
  if (allowed && !allowed.includes(model))
    throw new GatewayError({
      status: 403,
      message: `This API key may not use the model ${quoted(model)}.`,
      param: "model",
      code: "model_not_allowed",
    });
}
