import type { GatewayConfig } from "../config/load.ts";

/** Priority of the named InferenceObjective: missing or unknown = 0, negative = sheddable. */
export function priorityOf(config: GatewayConfig, objective: string | undefined): number {
  if (!objective) return 0;
  for (const o of config.objectives) if (o.metadata.name === objective) return o.spec.priority;
  return 0;
}
