import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { ConfigError } from "../../src/config/errors.ts";
import { parseConfig } from "../../src/config/load.ts";
import { createGateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { DEFAULT_CONFIG } from "../../src/runtime/main.ts";
import { POOL, testConfig } from "../helpers/config.ts";

function configError(text: string): ConfigError {
  try {
    parseConfig(text, "gw.yaml");
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("config loading", () => {
  test("the embedded quickstart parses: settings, two pools, objectives, rewrite", () => {
    const config = parseConfig(readFileSync(DEFAULT_CONFIG, "utf8"), DEFAULT_CONFIG);
    expect(config.settings.port).toBe(8080);
    expect(config.settings.simulator?.pods.map((p) => p.runner)).toEqual([
      "generate",
      "generate",
      "generate",
      "pooling",
    ]);
    expect(config.pools.map((p) => p.name)).toEqual(["vllm-pool", "embed-pool"]);
    expect(config.pool?.metadata.name).toBe("vllm-pool");
    expect(config.objectives.map((o) => [o.metadata.name, o.spec.priority])).toEqual([
      ["critical", 10],
      ["batch", -1],
    ]);
    expect(config.rewrites.length).toBe(1);
  });

  test("defaults apply when the file has no GatewayConfig", () => {
    const config = parseConfig(POOL);
    expect(config.settings.port).toBe(8080);
    expect(config.settings.maxBodyBytes).toBe(8 * 1024 * 1024);
    expect(config.settings.responseModel).toBe("served");
  });

  test("objectives and rewrites for another pool are ignored", () => {
    const other = `
apiVersion: llm-d.ai/v1alpha2
kind: InferenceObjective
metadata: { name: elsewhere }
spec: { priority: 5, poolRef: { name: other-pool } }`;
    expect(testConfig({}, POOL, other).objectives).toEqual([]);
  });

  test.each([
    [
      "a wrong field type",
      `apiVersion: gateway.inference.dev/v1alpha1\nkind: GatewayConfig\nport: eighty`,
      "GatewayConfig (document 1) port",
    ],
    [
      "an unknown setting",
      `apiVersion: gateway.inference.dev/v1alpha1\nkind: GatewayConfig\nprot: 80`,
      "GatewayConfig (document 1) prot",
    ],
    [
      "a bad endpoint address",
      `apiVersion: gateway.inference.dev/v1alpha1\nkind: GatewayConfig\nendpoints: [{name: a, address: "nope"}]`,
      "endpoints[0].address",
    ],
    ["an unknown kind", `apiVersion: v1\nkind: ConfigMap`, "document 1 kind"],
    [
      "too many target ports",
      POOL.replace(
        "[{ number: 8000 }]",
        "[{number: 1},{number: 2},{number: 3},{number: 4},{number: 5},{number: 6},{number: 7},{number: 8},{number: 9}]",
      ),
      "InferencePool/pool spec.targetPorts",
    ],
    [
      "a priority that is not an integer",
      `apiVersion: inference.networking.x-k8s.io/v1alpha2\nkind: InferenceObjective\nmetadata: {name: o}\nspec: {priority: 1.5, poolRef: {name: p}}`,
      "InferenceObjective/o spec.priority",
    ],
    ["broken YAML", "a: [1, 2", "document 1"],
  ])("%s is an error naming the file and field", (_name, text, path) => {
    const err = configError(text);
    expect(err.message).toStartWith("gw.yaml: ");
    expect(err.path).toContain(path);
    expect(err.expected.length).toBeGreaterThan(0);
  });

  test("an EndpointPickerConfig with an unknown plugin or bad parameter stops the gateway's start, naming it", () => {
    const epc = (plugins: string) =>
      `apiVersion: inference.networking.x-k8s.io/v1alpha1\nkind: EndpointPickerConfig\nplugins:\n${plugins}`;
    // The loader imports no plugin: the gateway checks the file against the plugins it was given.
    const built = (text: string) => {
      const config = parseConfig(text, "gw.yaml");
      try {
        void createGateway({ config, logger: silentLogger() }).stop();
      } catch (err) {
        if (err instanceof ConfigError) return err;
        throw err;
      }
      throw new Error("the gateway was built");
    };
    const unknown = built(epc("  - type: magic-scorer"));
    expect(unknown.message).toStartWith("gw.yaml: ");
    expect(unknown.message).toContain("magic-scorer");
    const bad = built(epc("  - type: max-score-picker\n    parameters: { maxNumOfEndpoints: 0 }"));
    expect(bad.message).toContain("maxNumOfEndpoints");
    const gateway = createGateway({
      config: parseConfig(epc("  - type: queue-scorer"), "ok.yaml"),
      logger: silentLogger(),
    });
    expect(() => gateway.checkConfig(parseConfig(epc("  - type: magic-scorer"), "next.yaml"))).toThrow(
      "next.yaml: ",
    );
    void gateway.stop();
  });

  test("two pools of one name are an error", () => {
    const err = configError(`${POOL}\n---\n${POOL}`);
    expect(err.path).toBe("InferencePool/pool");
  });

  test("a `pool` setting naming a missing pool is an error", () => {
    const err = configError(
      `apiVersion: gateway.inference.dev/v1alpha1\nkind: GatewayConfig\npool: nope\n---\n${POOL}`,
    );
    expect(err.message).toContain("'nope'");
  });
});
