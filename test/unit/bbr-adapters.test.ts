import { describe, expect, test } from "bun:test";
import { ConfigError } from "../../src/config/errors.ts";
import { createGateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { testConfig } from "../helpers/config.ts";

/**
 * GIE's body-based router maps LoRA adapters to their base model from `bbr-managed`
 * ConfigMaps (the shape GIE's multi-model guide writes), so a request naming an adapter no
 * pod lists yet reaches the base model's pool and pods.
 */
const bbr = (name: string, base: string, adapters: string) => `
apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
  labels:
    inference.networking.k8s.io/bbr-managed: "true"
data:
  baseModel: ${base}
  adapters: |
${adapters}
`;
const pool = (name: string, app: string) => `
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: { name: ${name} }
spec: { selector: { matchLabels: { app: ${app} } }, targetPorts: [{ number: 8000 }] }
`;

describe("BBR's adapter → base model ConfigMaps", () => {
  const config = testConfig(
    {
      endpoints: [
        { name: "l", address: "127.0.0.1:1", labels: { app: "llama" }, models: ["meta/llama"] },
        { name: "d", address: "127.0.0.1:2", labels: { app: "ds" }, models: ["deepseek/r1"] },
      ],
    },
    pool("llama-pool", "llama"),
    pool("ds-pool", "ds"),
    bbr("ds-adapters", "deepseek/r1", "    - ski-resorts\n    - movie-critique"),
  );

  test("load into adapter → base model", () => {
    expect([...config.baseModels]).toEqual([
      ["ski-resorts", "deepseek/r1"],
      ["movie-critique", "deepseek/r1"],
    ]);
  });

  test("an adapter no pod lists routes to its base model's pool", () => {
    const gateway = createGateway({ config, logger: silentLogger() });
    expect(gateway.deps.pools.route("ski-resorts")?.name).toBe("ds-pool");
    expect(gateway.deps.pools.route("meta/llama")?.name).toBe("llama-pool");
    expect(gateway.deps.pools.route("unmapped-adapter")).toBeUndefined();
  });

  test("a request for the adapter is sent to the base model's pods with the adapter's name", async () => {
    const sent: string[] = [];
    const gateway = createGateway({
      config,
      logger: silentLogger(),
      fetch: async (url, init) => {
        sent.push(`${url} ${JSON.parse(new TextDecoder().decode(init.body as Uint8Array)).model}`);
        return Response.json({ id: "x", object: "chat.completion", model: "ski-resorts", choices: [] });
      },
    });
    const res = await gateway.fetch(
      new Request("http://gw/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "ski-resorts", messages: [{ role: "user", content: "hi" }] }),
      }),
    );
    expect(res.status).toBe(200);
    expect(sent).toEqual(["http://127.0.0.1:2/v1/chat/completions ski-resorts"]);
  });

  test("an adapter under two base models, or adapters that are not a list, are config errors naming the field", () => {
    expect(() => testConfig({}, bbr("a", "m1", "    - x"), bbr("b", "m2", "    - x"))).toThrow(
      "already listed under 'm1'",
    );
    const err = (() => {
      try {
        testConfig({}, bbr("c", "m1", "    not: a list"));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).path).toBe("ConfigMap/c data.adapters");
  });
});
