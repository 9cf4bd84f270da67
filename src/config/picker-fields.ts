/**
 * The fields an EndpointPickerConfig may carry, for the unknown-field check. Upstream (GIE,
 * llm-d) decodes this document strictly, so `wieght:` on a profile's plugin or `paramters:`
 * on a plugin is refused there; loading it here as "default weight" or "no parameters" would
 * silently change the scheduling. The top level and the plugin and profile entries are
 * checked (the fields are today's upstream `EndpointPickerConfig`, `PluginSpec`,
 * `SchedulingProfile`, `SchedulingPlugin`), and so are `flowControl` (its schema) and
 * `saturationDetector` (both of its forms' fields at once, so a near miss is named).
 * `parameters` is checked by each plugin; `data` (GIE before the rename) and `dataLayer`,
 * `requestHandler` and `parser` are taken as they are (their upstream shapes still move).
 */
import * as v from "valibot";
import { FlowControlConfigSchema } from "../flow/control/config.ts";
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
  data: any,
  dataLayer: any,
  flowControl: v.optional(FlowControlConfigSchema),
  requestHandler: any,
  saturationDetector: v.optional(
    v.object({
      pluginRef: any,
      queueDepthThreshold: any,
      kvCacheUtilThreshold: any,
      metricsStalenessThreshold: any,
    }),
  ),
  parser: any,
});

/** A picker config kept in a ConfigMap may carry object metadata; it names nothing here. */
export const PICKER_EXTRAS: Allowed = { "": ["metadata"] };
