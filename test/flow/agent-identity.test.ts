/**
 * agent-identity (llm-d-router v0.10 PreAdmission plugin): the fairness id from a coding
 * agent's own session header, operator headers first, through the scheduler's
 * `fairnessIdFor` as the parse stage calls it.
 */
import { describe, expect, test } from "bun:test";
import { AGENT_SESSION_HEADERS, agentIdentity } from "../../plugins/agent-identity.ts";
import { builtinRegistry } from "../../plugins/index.ts";
import { ConfigError } from "../../src/config/errors.ts";
import { InFlight } from "../../src/endpoints/inflight.ts";
import { createScheduler } from "../../src/scheduling/framework/index.ts";

const h = (o: Record<string, string>) => new Headers(o);

describe("agent-identity", () => {
  test("the first non-empty built-in session header, in upstream's order", () => {
    const p = agentIdentity();
    expect(AGENT_SESSION_HEADERS).toEqual([
      "x-claude-code-session-id",
      "x-session-affinity",
      "session-id",
      "session_id",
    ]);
    expect(p.preAdmission(h({ "session-id": "c", "x-session-affinity": "o" }))).toBe("o");
    expect(p.preAdmission(h({ "x-claude-code-session-id": "  ", session_id: "old" }))).toBe("old");
    expect(p.preAdmission(h({ "x-other": "x" }))).toBeUndefined();
  });

  test("additionalSessionHeaders are checked first, in their order", () => {
    const p = agentIdentity({ additionalSessionHeaders: ["x-mine", "x-theirs"] });
    expect(p.preAdmission(h({ "x-claude-code-session-id": "c", "x-theirs": "t" }))).toBe("t");
    expect(p.preAdmission(h({ "x-theirs": "t", "x-mine": "m" }))).toBe("m");
  });

  const scheduler = (plugins: unknown[]) =>
    createScheduler({
      config: {
        apiVersion: "llm-d.ai/v1alpha1",
        kind: "EndpointPickerConfig",
        plugins,
      } as never,
      registry: builtinRegistry(),
      inflight: new InFlight(),
      random: () => 0.5,
      clock: { now: () => 0 },
    });

  test("declared in plugins, the scheduler derives the fairness id with it; not declared, nothing does", () => {
    const on = scheduler([{ type: "agent-identity", parameters: { additionalSessionHeaders: ["x-run"] } }]);
    expect(on.fairnessIdFor!(h({ "x-run": "r1", "session-id": "c" }))).toBe("r1");
    expect(on.fairnessIdFor!(h({}))).toBeUndefined();
    const off = scheduler([{ type: "queue-scorer" }]);
    expect(off.fairnessIdFor!(h({ "x-claude-code-session-id": "c" }))).toBeUndefined();
  });

  test("a bad parameter is a config error naming it", () => {
    expect(() =>
      scheduler([{ type: "agent-identity", parameters: { additionalSessionHeaders: ["bad header"] } }]),
    ).toThrow(ConfigError);
    expect(() => scheduler([{ type: "agent-identity", parameters: { headers: [] } }])).toThrow(ConfigError);
  });
});
