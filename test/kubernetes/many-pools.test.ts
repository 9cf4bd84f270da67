import { afterEach, describe, expect, test } from "bun:test";
import { NS, objective, POOL, pod, pool, rewrite } from "./fake-objects.ts";
import { type Harness, startHarness, until } from "./helpers.ts";

const POOL_API = "inference.networking.k8s.io/v1";
const TEAM = "team-b";
const SLOW = 20_000;

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const keys = (x: Harness) => (x.poolLists.at(-1) ?? []).map((p) => p.key);
const latest = (x: Harness, key: string) => x.latest.get(key) ?? {};
const poolsIn = (event: string) => event.slice("pools ".length).split(",");
const poolLists = (x: Harness) =>
  x.server.requests.filter((r) => !r.watch && r.path.endsWith("/inferencepools"));

describe("kubernetes discovery: many pools", () => {
  test(
    "two pools named in one namespace: each its own pods, objectives and rewrites; listed order routes",
    async () => {
      h = await startHarness({
        pools: ["embed", "chat"],
        seed: (s) => {
          s.apply(pool({ app: "chat" }, [8000], "chat"));
          s.apply(pool({ app: "embed" }, [8001], "embed"));
          s.apply(pool({ app: "other" }, [8002], "other")); // not named: not served
          s.apply(pod("chat-0", { ip: "10.0.0.1", labels: { app: "chat" } }));
          s.apply(pod("embed-0", { ip: "10.0.0.2", labels: { app: "embed" } }));
          s.apply(pod("other-0", { ip: "10.0.0.3", labels: { app: "other" } }));
          s.apply(objective("o-chat", 2, "chat"));
          s.apply(objective("o-embed", 1, "embed"));
          s.apply(
            rewrite("r-embed", [{ from: ["e"], to: { "bge-small": undefined } }], { poolName: "embed" }),
          );
        },
      });
      await h.discovery.ready;
      await until(() => latest(h!, "chat").endpoints && latest(h!, "embed").rewrites, "both pools reported");
      expect(keys(h)).toEqual(["embed", "chat"]);
      expect(latest(h, "chat")).toEqual({ endpoints: ["chat-0:8000"], objectives: ["o-chat"], rewrites: [] });
      expect(latest(h, "embed")).toEqual({
        endpoints: ["embed-0:8001"],
        objectives: ["o-embed"],
        rewrites: ["r-embed"],
      });
      expect(h.latest.has("other")).toBe(false);
      // Two names: the namespace's pools are listed whole and filtered here (one name uses a fieldSelector).
      expect(poolLists(h)[0]!.query).not.toHaveProperty("fieldSelector");
    },
    SLOW,
  );

  test(
    "two namespaces: order is namespace then name; the second pool of one name is served as namespace/name, logged",
    async () => {
      h = await startHarness({
        namespaces: [NS, TEAM],
        poolSelector: { tier: "prod" },
        seed: (s) => {
          const prod = { labels: { tier: "prod" } };
          s.apply(pool({ app: "vllm" }, [8000], POOL, { ...prod, namespace: TEAM }));
          s.apply(pool({ app: "aaa" }, [8000], "aaa", { ...prod, namespace: TEAM }));
          s.apply(pool({ app: "vllm" }, [8000], POOL, prod));
          s.apply(pool({ app: "vllm" }, [8000], "dev", { namespace: TEAM, labels: { tier: "dev" } }));
          // Same name and labels in both namespaces: each pool sees only its own namespace's pods.
          s.apply(pod("vllm-0", { ip: "10.0.0.1" }));
          s.apply(pod("vllm-0", { ip: "10.0.1.1", namespace: TEAM }));
          s.apply(pod("aaa-0", { ip: "10.0.1.2", namespace: TEAM, labels: { app: "aaa" } }));
          s.apply(objective("crit", 3, POOL, undefined, TEAM));
        },
      });
      await h.discovery.ready;
      await until(() => latest(h!, `${TEAM}/${POOL}`).objectives, "the second pool's objectives");
      expect(keys(h)).toEqual([POOL, "aaa", `${TEAM}/${POOL}`]);
      expect(h.poolLists.at(-1)!.map((p) => `${p.namespace}/${p.name}`)).toEqual([
        `${NS}/${POOL}`,
        `${TEAM}/aaa`,
        `${TEAM}/${POOL}`,
      ]);
      // Several namespaces: endpoint names carry the namespace (pod names repeat across them).
      expect(latest(h, POOL)).toEqual({ endpoints: [`${NS}/vllm-0:8000`], objectives: [], rewrites: [] });
      expect(latest(h, `${TEAM}/${POOL}`)).toEqual({
        endpoints: [`${TEAM}/vllm-0:8000`],
        objectives: ["crit"],
        rewrites: [],
      });
      expect(latest(h, "aaa").endpoints).toEqual([`${TEAM}/aaa-0:8000`]);
      const warned = h.logs.filter((l) => l.msg.includes("served as namespace/name"));
      expect(warned.map((l) => l["servedAs"])).toEqual([`${TEAM}/${POOL}`]);
      // A selector only: the API server filters the pools.
      expect(poolLists(h).map((r) => r.query["labelSelector"])).toEqual(["tier=prod", "tier=prod"]);
      // The first pool of that name goes away: the other keeps the name it is served by.
      h.server.remove(POOL_API, "InferencePool", POOL, NS);
      await until(
        () => keys(h!).join() === `aaa,${TEAM}/${POOL}` || undefined,
        () => keys(h!).join(),
      );
    },
    SLOW,
  );

  test(
    "a listed `namespace/name` serves that namespace's pool only, and routes in its listed place",
    async () => {
      h = await startHarness({
        namespaces: [NS, TEAM],
        pools: [`${TEAM}/chat`, "embed"],
        seed: (s) => {
          for (const namespace of [NS, TEAM])
            for (const name of ["chat", "embed"]) s.apply(pool({ app: name }, [8000], name, { namespace }));
        },
      });
      await h.discovery.ready;
      await until(() => h!.poolLists.length > 0 || undefined, "the pools");
      expect(h.poolLists.at(-1)!.map((p) => `${p.key}=${p.namespace}/${p.name}`)).toEqual([
        `chat=${TEAM}/chat`,
        `embed=${NS}/embed`,
        `${TEAM}/embed=${TEAM}/embed`,
      ]);
    },
    SLOW,
  );

  test(
    "pools come and go while running: created or relabelled to match joins, deleted or relabelled away leaves before its endpoints empty",
    async () => {
      h = await startHarness({
        poolSelector: { serve: "yes" },
        seed: (s) => {
          s.apply(pool({ app: "one" }, [8000], "one", { labels: { serve: "yes" } }));
          s.apply(pool({ app: "two" }, [8000], "two", { labels: { serve: "no" } }));
          s.apply(pod("one-0", { ip: "10.0.0.1", labels: { app: "one" } }));
          s.apply(pod("two-0", { ip: "10.0.0.2", labels: { app: "two" } }));
          s.apply(pod("three-0", { ip: "10.0.0.3", labels: { app: "three" } }));
        },
      });
      await h.discovery.ready;
      await until(() => latest(h!, "one").endpoints?.length === 1 || undefined, "pool one's pod");
      expect(keys(h)).toEqual(["one"]);
      // Created while running.
      h.server.apply(pool({ app: "three" }, [8000], "three", { labels: { serve: "yes" } }));
      await until(() => latest(h!, "three").endpoints?.join() === "three-0:8000" || undefined, "pool three");
      expect(keys(h)).toEqual(["one", "three"]);
      // Relabelled to match.
      h.server.update(POOL_API, "InferencePool", "two", (p) => {
        p.metadata!["labels"] = { serve: "yes" };
      });
      await until(() => latest(h!, "two").endpoints?.join() === "two-0:8000" || undefined, "pool two");
      expect(keys(h)).toEqual(["one", "three", "two"]);
      // Relabelled away, then deleted: each leaves the pools first, then reports no endpoints.
      h.server.update(POOL_API, "InferencePool", "one", (p) => {
        p.metadata!["labels"] = { serve: "no" };
      });
      h.server.remove(POOL_API, "InferencePool", "three");
      await until(
        () => keys(h!).join() === "two" || undefined,
        () => keys(h!).join(),
      );
      await until(() => latest(h!, "three").endpoints?.length === 0 || undefined, "three's endpoints empty");
      for (const key of ["one", "three"]) {
        const served = h.events.lastIndexOf(`endpoints ${key} 1`);
        const left = h.events.findIndex(
          (e, i) => i > served && e.startsWith("pools ") && !poolsIn(e).includes(key),
        );
        expect(left).toBeGreaterThan(served);
        expect(h.events.indexOf(`endpoints ${key} 0`)).toBeGreaterThan(left);
      }
      // A pool that comes back is served anew, its pods read again.
      h.server.update(POOL_API, "InferencePool", "one", (p) => {
        p.metadata!["labels"] = { serve: "yes" };
      });
      await until(() => latest(h!, "one").endpoints?.length === 1 || undefined, "pool one again");
      expect(keys(h)).toEqual(["one", "two"]);
    },
    SLOW,
  );
});
