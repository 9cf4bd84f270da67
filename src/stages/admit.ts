import type { MiddlewareHandler } from "hono";
import type { GatewayEnv } from "../env.ts";
import type { Admission } from "../request.ts";
import type { Releasable } from "../scope.ts";

/** What the admit stage sends to flow control. */
export interface AdmissionRequest {
  readonly objective: string | undefined;
  readonly fairnessId: string;
  readonly targetModel: string;
  readonly bytes: number;
  /** Aborts when the client goes away while waiting. */
  readonly signal: AbortSignal;
}

/**
 * The narrow interface the admit stage needs: resolves when the request may go on
 * (with a slot to release when it ends), or throws a GatewayError (429/503).
 */
export interface Admitter {
  admit(request: AdmissionRequest): Promise<{ admission: Admission; slot: Releasable }>;
}

/** Admission: asks flow control for a slot and holds it until the request ends. */
export function admit(deps: { admitter: Admitter }): MiddlewareHandler<GatewayEnv> {
  return async function admitStage(c, next) {
    const req = c.var.inferenceRequest;
    const { admission, slot } = await deps.admitter.admit({
      objective: req.objective,
      fairnessId: req.fairnessId,
      targetModel: c.var.targetModel.target,
      bytes: req.bytes.byteLength,
      signal: c.req.raw.signal,
    });
    c.var.scope.hold(slot);
    c.set("admission", admission);
    await next();
  };
}
