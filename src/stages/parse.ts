import type { SetTimer } from "../clock.ts";
import { badRequest } from "../errors.ts";
import { formBody, parseJsonObject, type ReadBody, refuseForm, requireFile } from "../openai/body.ts";
import { type RouteSpec, routeOf } from "../openai/routes.ts";
import { bodyValidator } from "../openai/validate.ts";
import type { ApiKind, InferenceRequest } from "../request.ts";
import type { Exchange } from "./exchange.ts";
import { type ReadBodyOptions, readBody } from "./read-body.ts";

/** Both spellings of each name asked for (a handful of constants from the code), built once. */
const SPELLINGS = new Map<string, readonly [string, string]>();

/** The spellings of a header the parse stage reads on every request, built at load (no Map lookup a call). */
const FAIRNESS_ID = spellings("inference-fairness-id");
const OBJECTIVE = spellings("inference-objective");
const MODEL_REWRITE = spellings("model-name-rewrite");

function spellings(name: string): readonly [string, string] {
  let names = SPELLINGS.get(name);
  if (names === undefined) {
    names = [`x-gateway-${name}`, `x-llm-d-${name}`];
    SPELLINGS.set(name, names);
  }
  return names;
}

/** The first of a pair of spellings that is set. */
function firstOf(headers: Headers, names: readonly [string, string]): string | undefined {
  return headers.get(names[0]) ?? headers.get(names[1]) ?? undefined;
}

/**
 * First of the `x-gateway-` / `x-llm-d-` spellings that is set. The two names are built once
 * per name, not per call: Bun flattens a freshly concatenated name on every lookup (three
 * headers, two spellings each, per request: ~0.6 → ~0.4 µs on Bun, micro).
 */
export function gatewayHeader(headers: Headers, name: string): string | undefined {
  return firstOf(headers, spellings(name));
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
function fairnessIdOf(
  headers: Headers,
  sent: string | undefined,
  derive?: (headers: Headers) => string | undefined,
): string {
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

/**
 * The parse stage in two steps, so that the pipeline awaits the body read's own promise and
 * no async frame of the stage's around it (issue 19, ninth pass: one promise, one async
 * frame and one microtask turn a request fewer): `read(x)` reads the body within the size
 * and time limits (a JSON route: the bytes; a form route: its parsed text fields), `apply(x,
 * read)` parses and validates what routing needs and sets `x.inferenceRequest`.
 * `await stage.read(x)` then `stage.apply(x, …)` is what one async stage did.
 */
export interface ParseStage {
  read(x: Exchange): Promise<Uint8Array<ArrayBuffer> | ReadBody>;
  apply(x: Exchange, read: Uint8Array<ArrayBuffer> | ReadBody): void;
}

/**
 * Reads the body within the size and time limits, parses it as its route takes it (a JSON
 * object, or a multipart form's text fields), validates what routing needs, and sets
 * `x.inferenceRequest`. Pass the route's table entry (`route`), or a `kind` for its first path.
 */
export function parse(opts: {
  /** The route's table entry; or `kind`, for that kind's first path. */
  route?: RouteSpec;
  kind?: ApiKind;
  maxBodyBytes: () => number;
  bodyReadTimeoutMs: () => number;
  setTimer?: SetTimer;
  /** The configured PreAdmission plugins' fairness id for requests that send none. */
  fairnessIdFor?: (headers: Headers) => string | undefined;
}): ParseStage {
  if (opts.route === undefined && opts.kind === undefined)
    throw new Error("parse: pass the route (or its kind)");
  const route = opts.route ?? routeOf(opts.kind!);
  const setTimer = opts.setTimer;
  const validate = bodyValidator(route.schema, route.oneOf);
  /** The limits as last read: one object while the settings stay (not one a request). */
  let limits: ReadBodyOptions = { limit: Number.NaN, timeoutMs: Number.NaN, setTimer };
  const limitsNow = (): ReadBodyOptions => {
    const limit = opts.maxBodyBytes();
    const timeoutMs = opts.bodyReadTimeoutMs();
    if (limits.limit !== limit || limits.timeoutMs !== timeoutMs) limits = { limit, timeoutMs, setTimer };
    return limits;
  };
  return {
    read(x) {
      const contentType = x.headers.get("content-type");
      if (route.body === "json") {
        // A throw here is the pipeline's to catch, as the async stage's rejection was.
        refuseForm(contentType, route.path);
        return readBody(x.request, limitsNow());
      }
      const request = x.request;
      const now = limitsNow();
      return formBody(() => readBody(request, now), contentType);
    },
    apply(x, read) {
      const headers = x.headers;
      // A JSON route's bytes parsed with no result object around them (tenth pass).
      const json = read instanceof Uint8Array;
      const body = json ? parseJsonObject(read) : read.body;
      const bytes = json ? read : read.bytes;
      validate(body);
      if (route.file !== undefined) requireFile(json ? { body, bytes } : read, route.file);
      const stream = route.stream !== undefined && (body["stream"] === true || body["stream"] === "true");
      const previous = route.kind === "responses" ? body["previous_response_id"] : undefined;
      // An API key's tenant is its fairness id; a client cannot claim another tenant's flow.
      const tenant = x.principal?.tenant;
      const sent = tenant ? undefined : firstOf(headers, FAIRNESS_ID);
      x.fairnessIdSent = !!sent;
      const req: { -readonly [K in keyof InferenceRequest]: InferenceRequest[K] } = {
        kind: route.kind,
        path: route.upstreamPath,
        model: body["model"] as string,
        stream,
        body,
        bytes,
        objective: firstOf(headers, OBJECTIVE),
        fairnessId: tenant ?? fairnessIdOf(headers, sent, opts.fairnessIdFor),
        modelRewriteHeader: firstOf(headers, MODEL_REWRITE) || undefined,
      };
      if (typeof previous === "string") req.previousResponseId = previous;
      x.inferenceRequest = req;
    },
  };
}
