/**
 * decode-filter (llm-d): keep the endpoints that may decode: label `llm-d.ai/role` is
 * `decode` or `both`, or absent (a pool without P/D roles keeps every endpoint).
 *
 * Input: `endpoint.labels`. Parameters: none.
 */
import * as v from "valibot";
import type { Filter } from "../src/scheduling/framework/interfaces.ts";
import { type PluginDefinition, withParameters } from "../src/scheduling/framework/registry.ts";

export const DECODE_FILTER = "decode-filter";
export const ROLE_LABEL = "llm-d.ai/role";
const DECODE_ROLES = new Set(["decode", "both"]);

export function decodeFilter(name = DECODE_FILTER): Filter {
  return {
    type: DECODE_FILTER,
    name,
    filter: (_ctx, endpoints) =>
      endpoints.filter((e) => {
        const role = e.labels[ROLE_LABEL];
        return role === undefined || DECODE_ROLES.has(role);
      }),
  };
}

export const decodeFilterPlugin: PluginDefinition = {
  type: DECODE_FILTER,
  factory: withParameters(v.strictObject({}), (name) => decodeFilter(name)),
};
