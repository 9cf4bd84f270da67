/**
 * The fields an EndpointPickerConfig may carry, for the unknown-field check. Upstream (GIE,
 * llm-d) decodes this document strictly, so `wieght:` on a profile's plugin or `paramters:`
 * on a plugin is refused there; loading it here as "default weight" or "no parameters" would
 * silently change the scheduling. The top level and the plugin and profile entries are
 * checked (the fields are today's upstream `EndpointPickerConfig`, `PluginSpec`,
 * `SchedulingProfile`, `SchedulingPlugin`); what sits below `parameters`, `flowControl`,
 * `saturationDetector`, `dataLayer`, `requestHandler` and `parser` is checked by the
 * plugins and sections that read it.
 */
import * as v from "valibot";
import type { Allowed } from "./strict.ts";

const any = v.unknown();

/** Shape only (every value `unknown`): the validation itself stays in EndpointPickerConfigSchema. */
export const PickerConfigFields = v.object({
  apiVersion: any,
  kind: any,
  featureGates: any,
  plugins: v.optional(v.array(v.object({ name: any, type: any, parameters: any }))),
  schedulingProfiles: v.optional(
    v.array(v.object({ name: any, plugins: v.optional(v.array(v.object({ pluginRef: any, weight: any }))) })),
  ),
  dataLayer: any,
  flowControl: any,
  requestHandler: any,
  saturationDetector: any,
  parser: any,
});

/** A picker config kept in a ConfigMap may carry object metadata; it names nothing here. */
export const PICKER_EXTRAS: Allowed = { "": ["metadata"] };
