import type { MiddlewareHandler } from "hono";
import type { GatewayEnv } from "../env.ts";
import { GatewayError } from "../errors.ts";

/** A key limited to some models may only ask for those (as requested, before rewrite): else 403. */
export function authorize(): MiddlewareHandler<GatewayEnv> {
  return async function authorizeStage(c, next) {
    const allowed = c.get("principal")?.models;
    const model = c.get("inferenceRequest").model;
    if (allowed && !allowed.includes(model)) {
      throw new GatewayError({
        status: 403,
        message: `This API key may not use the model '${model}'.`,
        param: "model",
        code: "model_not_allowed",
      });
    }
    await next();
  };
}
