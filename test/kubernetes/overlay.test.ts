import { describe, expect, test } from "bun:test";
import { ClusterOverlay } from "../../src/config/cluster-overlay.ts";
import { ConfigError } from "../../src/config/errors.ts";
import { ConfigHolder } from "../../src/config/holder.ts";
import type { InferenceObjective, InferencePool } from "../../src/config/resources.ts";
import { decodeObjective, decodePool, decodeRewrite } from "../../src/kubernetes/resources.ts";
import { createLogger, silentLogger } from "../../src/log.ts";
import type { InferenceModelRewrite } from "../../src/rewrite/index.ts";
import { scorerPicker, testConfig } from "../helpers/config.ts";
import { objective, pool, rewrite } from "./fake-objects.ts";

const log = silentLogger();
const asPool = (name: string, picker?: string) =>
  decodePool(log)(pool({ app: name }, [8000], name, picker ? { picker } : {})) as InferencePool;
const asObjective = (name: string, poolName: string) =>
  decodeObjective(log)(objective(name, 1, poolName)) as InferenceObjective;
const asRewrite = (name: string, poolName: string, from: string, to: string) =>
  decodeRewrite(log)(
    rewrite(name, [{ from: [from], to: { [to]: undefined } }], { poolName }),
  ) as InferenceModelRewrite;

/** A file as a platform team writes it with discovery on: settings and picker configs, no pools. */
const file = () =>
  testConfig(
    { kubernetes: { namespaces: ["llm", "team-b"], poolSelector: { matchLabels: { tier: "prod" } } } },
    scorerPicker("alpha", "queue-scorer"),
    scorerPicker("shared-epp", "kv-cache-utilization-scorer"),
    scorerPicker(undefined, "prefix-cache-scorer"),
  );

const scorer = (h: ConfigHolder, key: string) =>
  h.current.pools.find((p) => p.name === key)?.pickerConfig?.plugins[0]?.type;

describe("the cluster overlay: the cluster's pools laid over the file's", () => {
  test("each discovered pool is served with the picker config splitByPool assigns it", () => {
    const h = new ConfigHolder(file());
    expect(h.current.pools.map((p) => p.name)).toEqual(["default"]); // the file's placeholder
    const o = new ClusterOverlay(h, log);
    o.setPools([
      { key: "alpha", pool: asPool("alpha") },
      { key: "beta", pool: asPool("beta", "shared-epp") },
      { key: "team-b/alpha", pool: asPool("alpha") },
    ]);
    expect(h.current.pools.map((p) => p.name)).toEqual(["alpha", "beta", "team-b/alpha"]);
    expect(scorer(h, "alpha")).toBe("queue-scorer"); // named after the pool
    expect(scorer(h, "beta")).toBe("kv-cache-utilization-scorer"); // by spec.endpointPickerRef.name
    expect(scorer(h, "team-b/alpha")).toBe("prefix-cache-scorer"); // the unnamed one serves the rest
    expect(h.current.pool?.metadata.name).toBe("alpha"); // single-pool fields follow the first
    // None left: the file's pools again.
    o.setPools([]);
    expect(h.current.pools.map((p) => p.name)).toEqual(["default"]);
  });

  test("objectives and rewrites go to the pool discovery reports them for; a bad rewrite set keeps the last good", () => {
    const h = new ConfigHolder(file());
    const logs: { msg: string; pool?: string }[] = [];
    const o = new ClusterOverlay(
      h,
      createLogger("debug", (l) => logs.push(JSON.parse(l))),
    );
    o.setPools([
      { key: "alpha", pool: asPool("alpha") },
      { key: "beta", pool: asPool("beta") },
    ]);
    o.setObjectives("beta", [asObjective("bulk", "beta")]);
    o.setRewrites("alpha", [asRewrite("r", "alpha", "a", "model-a")]);
    const part = (k: string) => h.current.pools.find((p) => p.name === k)!;
    expect(part("alpha").objectives).toEqual([]);
    expect(part("beta").objectives.map((x) => x.metadata.name)).toEqual(["bulk"]);
    expect(part("alpha").rewriteTable.match("a")).toBe("exact");
    expect(part("beta").rewriteTable.match("a")).toBeUndefined();
    // Two rewrites of one namespace/name do not build: refused and logged, alpha keeps "r".
    o.setRewrites("alpha", [asRewrite("x", "alpha", "a", "m1"), asRewrite("x", "alpha", "b", "m2")]);
    expect(logs.filter((l) => l.msg.includes("rejected")).map((l) => l.pool)).toEqual(["alpha"]);
    expect(part("alpha").rewrites.map((r) => r.metadata.name)).toEqual(["r"]);
    // A file reload rebuilds the config: apply() lays the cluster's pools over it again.
    h.swap(o.apply(file()));
    expect(h.current.pools.map((p) => p.name)).toEqual(["alpha", "beta"]);
    expect(part("beta").objectives.map((x) => x.metadata.name)).toEqual(["bulk"]);
    // A pool that leaves takes its documents with it: back later, it starts from none.
    o.setPools([{ key: "alpha", pool: asPool("alpha") }]);
    o.setPools([
      { key: "alpha", pool: asPool("alpha") },
      { key: "beta", pool: asPool("beta") },
    ]);
    expect(part("beta").objectives).toEqual([]);
  });

  test("a pool whose picker config the gateway cannot build is left out and logged, the others are served", () => {
    const h = new ConfigHolder(file());
    const logs: { msg: string; pool?: string }[] = [];
    const check = (c: typeof h.current) => {
      for (const p of c.pools)
        if (p.pickerConfig?.plugins[0]?.type === "queue-scorer")
          throw new ConfigError({
            path: "EndpointPickerConfig/alpha plugins[0]",
            expected: "a buildable plugin",
          });
    };
    const o = new ClusterOverlay(
      h,
      createLogger("debug", (l) => logs.push(JSON.parse(l))),
      { check },
    );
    o.setPools([
      { key: "alpha", pool: asPool("alpha") },
      { key: "beta", pool: asPool("beta") },
    ]);
    expect(h.current.pools.map((p) => p.name)).toEqual(["beta"]);
    expect(logs.filter((l) => l.msg.includes("does not build")).map((l) => l.pool)).toEqual(["alpha"]);
  });
});
