import * as v from "valibot";
import { toConfigError } from "../../config/issues.ts";
import type { PluginSpec } from "./types.ts";

/** A plugin's `parameters`, validated; a bad value is a ConfigError naming the plugin and field. */
export function pluginParams<S extends v.GenericSchema>(schema: S, spec: PluginSpec): v.InferOutput<S> {
  const result = v.safeParse(schema, spec.parameters ?? {});
  if (!result.success) throw toConfigError(result.issues, `plugins[${spec.name ?? spec.type}].parameters`);
  return result.output;
}

/** The instance name: `name`, defaulting to the type (as in GIE). */
export const pluginName = (spec: PluginSpec): string => spec.name ?? spec.type;
