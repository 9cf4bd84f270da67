import type { CompiledRule, RuleBackend } from "./types.ts";

/** What the route stage decided from an AIGatewayRoute rule, for the stages after it (the Exchange's aigw). */
export interface AigwRouting {
  readonly rule: CompiledRule;
  /** Hosted backends behind the rule's pool, in the order to try them when the request spills. */
  readonly spillTo: readonly RuleBackend[];
  /** Set once the request went to a hosted backend: it never spills twice. */
  spilled?: boolean;
}
