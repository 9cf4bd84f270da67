/**
 * single-profile-handler: runs the one configured profile; its result is the decision.
 *
 * The loader rejects configurations with more than one profile under this handler
 * (`maxProfiles` 1). Parameters: none.
 */
import * as v from "valibot";
import type { ProfileHandler } from "../src/scheduling/framework/interfaces.ts";
import { type PluginDefinition, withParameters } from "../src/scheduling/framework/registry.ts";

export const SINGLE_PROFILE_HANDLER = "single-profile-handler";

export function singleProfileHandler(name = SINGLE_PROFILE_HANDLER): ProfileHandler {
  return {
    type: SINGLE_PROFILE_HANDLER,
    name,
    maxProfiles: 1,
    handle(_ctx, profiles, run) {
      const only = profiles[0];
      return only === undefined ? { kind: "no-endpoints" } : run(only);
    },
  };
}

export const singleProfileHandlerPlugin: PluginDefinition = {
  type: SINGLE_PROFILE_HANDLER,
  factory: withParameters(v.strictObject({}), (name) => singleProfileHandler(name)),
};
