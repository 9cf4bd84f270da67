import type { MiddlewareHandler } from "hono";
import * as v from "valibot";
import type { SetTimer } from "../clock.ts";
import { issuePath } from "../config/issues.ts";
import type { GatewayEnv } from "../env.ts";
import { badRequest, GatewayError } from "../errors.ts";
import { ChatCompletionSchema, CompletionSchema } from "../openai/schemas.ts";
import type { ApiKind } from "../request.ts";
import { readBody } from "./read-body.ts";

const SCHEMAS = { chat: ChatCompletionSchema, completions: CompletionSchema } as const;
const PATHS = { chat: "/v1/chat/completions", completions: "/v1/completions" } as const;
const decoder = new TextDecoder();

/** First of the `x-gateway-` / `x-llm-d-` spellings that is set. */
export function gatewayHeader(headers: Headers, name: string): string | undefined {
  return headers.get(`x-gateway-${name}`) ?? headers.get(`x-llm-d-${name}`) ?? undefined;
}

/**
 * Longest fairness id a client may send. Flow control keeps an id while its flow has
 * requests queued, and token fairness keeps up to 10,000 idle ones: unbounded ids from a
 * header would let clients grow that memory by the header size limit each.
 */
export const MAX_FAIRNESS_ID_LENGTH = 256;

/**
 * The client's fairness id header; when absent, the id a PreAdmission plugin derives
 * (`derive`, e.g. agent-identity from an agent's session header); else `default-flow`.
 * An over-long one is refused with a 400.
 */
function fairnessIdOf(headers: Headers, derive?: (headers: Headers) => string | undefined): string {
  const sent = gatewayHeader(headers, "inference-fairness-id");
  const id = sent || derive?.(headers);
  if (id && id.length > MAX_FAIRNESS_ID_LENGTH)
    throw badRequest(
      sent
        ? `The fairness id header (x-gateway-inference-fairness-id or x-llm-d-inference-fairness-id) is ${id.length} characters long; at most ${MAX_FAIRNESS_ID_LENGTH} are accepted. Send a shorter tenant id.`
        : `The agent session header the fairness id is derived from is ${id.length} characters long; at most ${MAX_FAIRNESS_ID_LENGTH} are accepted. Send a shorter session id, or an x-gateway-inference-fairness-id header.`,
      null,
      "invalid_fairness_id",
    );
  return id || "default-flow";
}

/** Reads the body within the size and time limits, parses and validates it, and sets `inferenceRequest`. */
export function parse(opts: {
  kind: ApiKind;
  maxBodyBytes: () => number;
  bodyReadTimeoutMs: () => number;
  setTimer?: SetTimer;
  /** The configured PreAdmission plugins' fairness id for requests that send none. */
  fairnessIdFor?: (headers: Headers) => string | undefined;
}): MiddlewareHandler<GatewayEnv> {
  const schema = SCHEMAS[opts.kind];
  return async function parseStage(c, next) {
    const bytes = await readBody(c.req.raw, {
      limit: opts.maxBodyBytes(),
      timeoutMs: opts.bodyReadTimeoutMs(),
      ...(opts.setTimer ? { setTimer: opts.setTimer } : {}),
    });
    let json: unknown;
    try {
      json = JSON.parse(decoder.decode(bytes));
    } catch {
      throw badRequest(
        "We could not parse the JSON body of your request. Send a JSON object.",
        null,
        "invalid_json",
      );
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      throw badRequest("The request body must be a JSON object.", null, "invalid_json");
    }
    const result = v.safeParse(schema, json);
    if (!result.success) {
      const issue = result.issues[0]!;
      const param = issuePath(issue) || null;
      const missing = issue.input === undefined;
      const message = missing
        ? `Missing required parameter: '${param}'.`
        : `Invalid value for '${param}': expected ${issue.expected ?? issue.message}.`;
      throw new GatewayError({
        status: 400,
        message,
        param,
        code: missing ? "missing_required_parameter" : "invalid_value",
      });
    }
    const body = json as Record<string, unknown>;
    const headers = c.req.raw.headers;
    c.set("inferenceRequest", {
      kind: opts.kind,
      path: PATHS[opts.kind],
      model: body["model"] as string,
      stream: body["stream"] === true,
      body,
      bytes,
      objective: gatewayHeader(headers, "inference-objective"),
      // An API key's tenant is its fairness id; a client cannot claim another tenant's flow.
      fairnessId: c.get("principal")?.tenant ?? fairnessIdOf(headers, opts.fairnessIdFor),
      modelRewriteHeader: gatewayHeader(headers, "model-name-rewrite") || undefined,
    });
    await next();
  };
}
