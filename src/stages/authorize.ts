import { GatewayError, quoted } from "../errors.ts";
import type { Exchange } from "./exchange.ts";

const forbidden = (message: string) =>
  new GatewayError({ status: 403, message, param: "model", code: "model_not_allowed" });

/**
 * A key limited to some models (`models`) may only ask for those, and is only served
 * by those: runs after rewrite, so it sees the model the pod will be asked for. A
 * target the operator's InferenceModelRewrite chose for an allowed name is allowed
 * (the operator decided it); a target the client chose with the
 * `x-gateway-model-name-rewrite` header must be in the key's list itself.
 */
export function authorize(): (x: Exchange) => void {
  return function authorizeStage(x) {
    const allowed = x.principal?.models;
    if (allowed) {
      const { requested, target, rewriteName } = x.targetModel;
      if (!allowed.includes(requested))
        throw forbidden(`This API key may not use the model ${quoted(requested)}.`);
      if (rewriteName === undefined && target !== requested && !allowed.includes(target))
        throw forbidden(
          `This API key may not use the model ${quoted(target)}, which the model-name-rewrite header asks to serve instead of ${quoted(requested)}. Authorization applies to the model served; drop the header or use a key allowed that model.`,
        );
    }
  };
}
