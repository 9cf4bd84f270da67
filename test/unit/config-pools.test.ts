import { describe, expect, test } from "bun:test";
import { ConfigError } from "../../src/config/errors.ts";
import { poolOfEndpoint } from "../../src/config/pools.ts";
import { createGateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { scorerPicker, testConfig } from "../helpers/config.ts";

/** Many pools in one file: each resource and picker config goes to the pool it names. */
const pool = (name: string, app: string, picker?: string) => `
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: { name: ${name} }
spec:
  selector: { matchLabels: { app: ${app} } }
  targetPorts: [{ number: 8000 }]
${picker ? `  endpointPickerRef: { name: ${picker} }` : ""}
`;
const objective = (name: string, poolName: string, priority: number) => `
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: { name: ${name} }
spec: { priority: ${priority}, poolRef: { name: ${poolName} } }
`;
const rewrite = (name: string, poolName: string, from: string, to: string) => `
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: { name: ${name} }
spec:
  poolRef: { name: ${poolName} }
  rules: [{ matches: [{ model: { type: Exact, value: ${from} } }], targets: [{ modelRewrite: ${to} }] }]
`;

describe("many pools in one file", () => {
  test("every pool is served in file order, each with the objectives and rewrites its poolRef names", () => {
    const c = testConfig(
      {},
      pool("chat", "chat"),
      pool("embed", "embed"),
      objective("urgent", "chat", 10),
      objective("bulk", "embed", -1),
      rewrite("alias", "embed", "e", "bge"),
    );
    expect(c.pools.map((p) => p.name)).toEqual(["chat", "embed"]);
    const [chat, embed] = c.pools;
    expect(chat!.objectives.map((o) => o.metadata.name)).toEqual(["urgent"]);
    expect(embed!.objectives.map((o) => o.metadata.name)).toEqual(["bulk"]);
    expect(chat!.rewriteTable.match("e")).toBeUndefined();
    expect(embed!.rewriteTable.match("e")).toBe("exact");
    // The single-pool fields are the first pool's.
    expect(c.pool?.metadata.name).toBe("chat");
    expect(c.warnings).toEqual([]);
  });

  test("the `pool` setting still narrows the file to one pool; the others' resources are said to be ignored", () => {
    const c = testConfig(
      { pool: "embed" },
      pool("chat", "chat"),
      pool("embed", "embed"),
      objective("urgent", "chat", 10),
    );
    expect(c.pools.map((p) => p.name)).toEqual(["embed"]);
    expect(c.warnings).toEqual([
      "InferenceObjective/urgent is for InferencePool 'chat', not 'embed' (the pool this gateway fronts): ignored",
    ]);
  });

  test("a picker config serves the pool whose endpointPickerRef (or name) it carries; the unnamed one serves the rest", () => {
    const c = testConfig(
      {},
      pool("a", "a", "a-epp"),
      pool("b", "b"),
      pool("c", "c"),
      scorerPicker("a-epp", "queue-scorer"),
      scorerPicker("b", "kv-cache-utilization-scorer"),
      scorerPicker(undefined, "prefix-cache-scorer"),
    );
    const scorer = (name: string) => c.pools.find((p) => p.name === name)?.pickerConfig?.plugins[0]?.type;
    expect(scorer("a")).toBe("queue-scorer");
    expect(scorer("b")).toBe("kv-cache-utilization-scorer");
    expect(scorer("c")).toBe("prefix-cache-scorer");
  });

  test("one picker config, named or not, serves every pool (the single-pool files of upstream)", () => {
    const c = testConfig({}, pool("a", "a"), pool("b", "b"), scorerPicker("whatever", "queue-scorer"));
    expect(c.pools.map((p) => p.pickerConfig?.plugins[0]?.type)).toEqual(["queue-scorer", "queue-scorer"]);
  });

  test("two unnamed picker configs are refused; a named one no pool uses is warned about", () => {
    expect(() =>
      testConfig(
        {},
        pool("a", "a"),
        scorerPicker(undefined, "queue-scorer"),
        scorerPicker(undefined, "queue-scorer"),
      ),
    ).toThrow(ConfigError);
    const c = testConfig(
      {},
      pool("a", "a"),
      scorerPicker(undefined, "queue-scorer"),
      scorerPicker("typo-epp", "queue-scorer"),
    );
    expect(c.warnings.some((w) => w.startsWith("EndpointPickerConfig/typo-epp serves no pool"))).toBe(true);
  });

  test("endpoints join the pool they name, else the pool whose selector they match, else none", () => {
    const c = testConfig({}, pool("chat", "chat"), pool("embed", "embed"));
    expect(poolOfEndpoint({ labels: { app: "embed" } }, c.pools)).toBe("embed");
    expect(poolOfEndpoint({ labels: { app: "chat" }, pool: "embed" }, c.pools)).toBe("embed");
    expect(poolOfEndpoint({ labels: { app: "other" } }, c.pools)).toBeUndefined();
    expect(poolOfEndpoint({ labels: {}, pool: "missing" }, c.pools)).toBeUndefined();
    // One pool takes every endpoint, labelled or not (files written before pools had selectors here).
    const one = testConfig({}, pool("chat", "chat"));
    expect(poolOfEndpoint({ labels: {} }, one.pools)).toBe("chat");
  });

  test("a file without pool documents has one implicit pool holding every resource", () => {
    const c = testConfig({}, objective("o", "anything", 1));
    expect(c.pools.map((p) => p.name)).toEqual(["default"]);
    expect(c.objectives.length).toBe(1);
  });
});

describe("endpoints in no pool", () => {
  test("are warned about at start-up, naming them and what would place them", () => {
    const lines: string[] = [];
    const logger = { ...silentLogger(), warn: (m: string) => lines.push(m) };
    const config = testConfig(
      {
        endpoints: [
          { name: "a", address: "127.0.0.1:1", labels: { app: "chat" } },
          { name: "stray", address: "127.0.0.1:2", labels: { app: "other" } },
        ],
      },
      pool("chat", "chat"),
      pool("embed", "embed"),
    );
    const gateway = createGateway({ config, logger });
    expect(
      gateway.deps.pools
        .get("chat")!
        .endpoints.list()
        .map((e) => e.name),
    ).toEqual(["a"]);
    expect(lines.length).toBe(1);
    expect(lines[0]).toContain("stray");
    expect(lines[0]).toContain("'chat', 'embed'");
  });
});
