import { describe, expect, test } from "bun:test";
import { ConfigError } from "../../src/config/errors.ts";
import { discoveryTarget } from "../../src/runtime/kubernetes.ts";
import { testConfig } from "../helpers/config.ts";

const target = (settings: Record<string, unknown>, fallback = "from-service-account") =>
  discoveryTarget(testConfig(settings).settings, fallback);

describe("kubernetes settings: which pools, where", () => {
  test("pool and namespace keep working as before", () => {
    expect(target({ kubernetes: { pool: "vllm", namespace: "llm" } })).toEqual({
      namespaces: ["llm"],
      pools: ["vllm"],
      poolSelector: undefined,
    });
    // The top-level pool names it when the kubernetes section does not; the namespace falls back.
    expect(target({ pool: "vllm", kubernetes: {} })).toEqual({
      namespaces: ["from-service-account"],
      pools: ["vllm"],
      poolSelector: undefined,
    });
  });

  test("pools, poolSelector and namespaces: a platform team's many pools", () => {
    expect(
      target({
        kubernetes: {
          namespace: "llm",
          namespaces: ["team-b", "llm"],
          pool: "chat",
          pools: ["embed", "chat"],
          poolSelector: { matchLabels: { "gateway.inference.dev/serve": "true" } },
        },
      }),
    ).toEqual({
      namespaces: ["llm", "team-b"],
      pools: ["chat", "embed"],
      poolSelector: { "gateway.inference.dev/serve": "true" },
    });
    // A selector alone does not fall back to the top-level pool.
    expect(target({ pool: "x", kubernetes: { poolSelector: { matchLabels: {} } } }).pools).toEqual([]);
  });

  test("nothing saying which pools: an error naming the settings to set", () => {
    expect(() => target({ kubernetes: { namespace: "llm" } })).toThrow(
      /kubernetes\.pools \(names\), kubernetes\.poolSelector \(labels\) or pool/,
    );
  });

  test("bad values are refused with the field named", () => {
    for (const kubernetes of [
      { pools: [] },
      { pools: [""] },
      { namespaces: [] },
      { poolSelector: { app: "vllm" } },
      { poolSelector: { matchLabels: { app: 1 } } },
    ]) {
      let err: unknown;
      try {
        testConfig({ kubernetes });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect(String((err as Error).message)).toContain("kubernetes");
    }
  });
});
