import * as v from "valibot";
import { issuePath } from "../config/issues.ts";
import { GatewayError } from "../errors.ts";
import { FAST_ACCEPT } from "./fast-accept.ts";

/** A schema over a request body: what a route's table entry validates with. */
export type BodySchema = v.GenericSchema<Record<string, unknown>, unknown>;

/** Alternative field groups of which a body must carry one whole group, e.g. `[["input"], ["messages"]]`. */
export type OneOf = readonly (readonly string[])[];

const missing = (param: string, alternatives = "") =>
  new GatewayError({
    status: 400,
    message: `Missing required parameter: '${param}'${alternatives}.`,
    param,
    code: "missing_required_parameter",
  });

/**
 * Validates a parsed body against a route's schema and alternatives. The 400 is OpenAI's
 * shape with `param` naming the field at fault (`messages[0].role`), `code`
 * `missing_required_parameter` or `invalid_value`.
 */
export function validateBody(body: Record<string, unknown>, schema: BodySchema, oneOf?: OneOf): void {
  const result = v.safeParse(schema, body);
  if (!result.success) {
    const issue = result.issues[0]!;
    const param = issuePath(issue) || null;
    if (issue.input === undefined && param !== null) throw missing(param);
    throw new GatewayError({
      status: 400,
      message: `Invalid value for '${param}': expected ${issue.expected ?? issue.message}.`,
      param,
      code: "invalid_value",
    });
  }
  if (oneOf !== undefined) checkOneOf(body, oneOf);
}

/**
 * `validateBody` for one route, resolved once: a body the schema's hand-written check
 * (fast-accept.ts) accepts skips valibot; any other body is judged by valibot as before,
 * so the 400s are unchanged.
 */
export function bodyValidator(schema: BodySchema, oneOf?: OneOf): (body: Record<string, unknown>) => void {
  const accepts = FAST_ACCEPT.get(schema);
  if (accepts === undefined) return (body) => validateBody(body, schema, oneOf);
  return (body) => {
    if (!accepts(body)) validateBody(body, schema, oneOf);
    else if (oneOf !== undefined) checkOneOf(body, oneOf);
  };
}

/**
 * Throws unless some group is wholly present. Names the first missing field of the group
 * the body came closest to (the first group on a tie), and the other ways to send it.
 */
function checkOneOf(body: Record<string, unknown>, groups: OneOf): void {
  const present = (f: string) => body[f] !== undefined && body[f] !== null;
  let best = groups[0]!;
  let bestCount = -1;
  for (const group of groups) {
    const count = group.filter(present).length;
    if (count === group.length) return;
    if (count > bestCount) [best, bestCount] = [group, count];
  }
  const others = groups.filter((g) => g !== best).map((g) => g.map((f) => `'${f}'`).join(" with "));
  throw missing(best.find((f) => !present(f))!, others.length ? ` (or send ${others.join(", or ")})` : "");
}
