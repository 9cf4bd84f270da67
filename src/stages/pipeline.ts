import type { GatewayDeps } from "../deps.ts";
import type { RouteSpec } from "../openai/routes.ts";
import { accepted } from "./accepted.ts";
import { authenticate } from "./authenticate.ts";
import { authorize } from "./authorize.ts";
import { candidates } from "./candidates.ts";
import { errorResponse } from "./error-response.ts";
import { Exchange } from "./exchange.ts";
import { type ForwardDeps, forward } from "./forward.ts";
import { parse } from "./parse.ts";
import { REQUEST_ID_HEADER, requestIdOf } from "./request-id.ts";
import { rewrite } from "./rewrite.ts";
import { route } from "./route.ts";
import { schedule } from "./schedule.ts";
import { scope } from "./scope.ts";
import { admitOrSpill, spillOnFailure } from "./spill.ts";

/**
 * One inference route as ONE Hono handler: request id → scope → authenticate → parse →
 * route (the model's pool, or a hosted backend that answers here) → rewrite → authorize →
 * candidates → accepted → admit (or spill) → schedule → forward. Each stage is a plain step
 * over the request's Exchange (synchronous ones are plain functions, no promise each); what
 * a middleware did after `await next()` is explicit below, in reverse order of the stages
 * that ran: evicted? (admit) → spill on failure → the route's deadline → scope end →
 * `x-request-id`. An error becomes its OpenAI/Anthropic-shaped answer where it is thrown, as
 * Hono's `onError` made it at the innermost middleware, and the steps after see that answer
 * and `x.error`, as they saw `c.res` and `c.error` (measured: a chain of 12 middlewares cost
 * 8-9 µs per request on Bun and ~17 on Node over one handler). It takes the bare Request:
 * the app dispatches inference POSTs to it by exact path before Hono's router (src/app.ts).
 */
export function inferenceHandler(
  deps: GatewayDeps,
  spec: RouteSpec,
  onAnswered: ForwardDeps["onAnswered"],
): (request: Request) => Promise<Response> {
  const config = () => deps.config.current;
  const scoped = scope(deps);
  const authenticated = authenticate({ config });
  const parsed = parse({
    route: spec,
    maxBodyBytes: () => config().settings.maxBodyBytes,
    bodyReadTimeoutMs: () => config().settings.bodyReadTimeoutMs,
    setTimer: deps.setTimer,
  });
  const routed = route(deps);
  const spilledOnFailure = spillOnFailure(deps);
  const rewritten = rewrite({ random: deps.random });
  const authorized = authorize();
  const served = candidates();
  const acceptedStage = accepted(deps);
  const admitted = admitOrSpill(deps);
  const scheduled = schedule(deps);
  const forwarded = forward({ ...deps, config, onAnswered });
  const shape = spec.errors;

  /** The error's answer, as the stages after the one that threw see it. */
  function fail(x: Exchange, err: unknown): Response {
    x.error = err;
    x.servedBy = undefined;
    x.res = errorResponse(deps.logger, err, x.requestId, shape);
    return x.res;
  }

  /**
   * The whole request, in one async function (ninth pass: authenticate, parse, route and the
   * pool's stages no longer in an async function of their own inside it: one async frame, one
   * promise and one await less a request). Inside the scope, a throw before the pool's stages
   * (authenticate, parse, route) is the answer the scope ends with; the pool's stages (rewrite
   * to forward) have their own catch, so spill on failure and the route's deadline see it.
   */
  return async function inference(request) {
    const x = new Exchange(request, requestIdOf(request.headers));
    let res: Response;
    try {
      scoped.open(x);
      try {
        const auth = authenticated(x);
        if (auth) await auth;
        // The body read's own promise awaited here (no async frame of the parse stage around it).
        parsed.apply(x, await parsed.read(x));
        const hosted = routed(x);
        if (hosted) res = await hosted;
        else {
          try {
            rewritten(x);
            authorized(x);
            served(x);
            acceptedStage(x);
            // Admitted at once (flow control off): no promise, no await.
            const admitting = admitted(x);
            const spilled = admitting === undefined ? undefined : await admitting;
            const eviction = x.eviction;
            if (spilled) res = spilled;
            else if (!eviction) {
              scheduled(x);
              res = await forwarded(x);
            } else {
              try {
                scheduled(x);
                res = await forwarded(x);
              } catch (err) {
                res = fail(x, err);
              }
              x.res = res;
              res = await eviction.settle(x, res);
            }
          } catch (err) {
            res = fail(x, err);
          }
          x.res = res;
          try {
            // Usually the same answer, synchronously: no await (and no microtask) for it then.
            const after = spilledOnFailure(x, res);
            if (after !== res) res = await after;
          } catch (err) {
            res = fail(x, err);
          }
          x.res = res;
          if (x.deadline) res = x.deadline.settle(x, res);
        }
      } catch (err) {
        res = fail(x, err);
      }
      scoped.close(x, res);
    } catch (err) {
      res = fail(x, err);
    }
    if (res !== x.idSetOn) res.headers.set(REQUEST_ID_HEADER, x.requestId);
    return res;
  };
}
