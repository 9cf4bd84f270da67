import { afterEach, describe, expect, test } from "bun:test";
import { NS, POOL, pod, pool } from "./fake-objects.ts";
import { type Harness, startHarness, untilNames } from "./helpers.ts";

const POOL_API = "inference.networking.k8s.io/v1";
/** Generous per-test limit for a noisy 2-core machine; waits inside poll, never sleep. */
const SLOW = 30_000;
let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe("kubernetes discovery: pods -> endpoints", () => {
  test(
    "a pod that becomes Ready appears, one endpoint per target port",
    async () => {
      h = await startHarness({
        seed: (s) => {
          s.apply(pool({ app: "vllm" }, [8000, 8001]));
          s.apply(pod("vllm-0", { ip: "10.0.0.1", ready: false }));
        },
      });
      await h.discovery.ready;
      expect(h.names()).toEqual([]);
      h.server.setPodReady("vllm-0", true);
      await untilNames(h, ["vllm-0:8000", "vllm-0:8001"]);
      const eps = h.endpoints.at(-1)!;
      expect(eps.map((e) => e.address)).toEqual(["10.0.0.1:8000", "10.0.0.1:8001"]);
      expect(eps[0]!.labels).toEqual({ app: "vllm" });
      expect(eps[0]!.engine).toBe("vllm");
      expect(eps[0]!.models.size).toBe(0);
    },
    SLOW,
  );

  test(
    "a pod that turns NotReady leaves",
    async () => {
      h = await startHarness({
        seed: (s) => {
          s.apply(pool());
          s.apply(pod("vllm-0", { ip: "10.0.0.1" }));
          s.apply(pod("vllm-1", { ip: "10.0.0.2" }));
        },
      });
      await untilNames(h, ["vllm-0:8000", "vllm-1:8000"]);
      h.server.setPodReady("vllm-1", false);
      await untilNames(h, ["vllm-0:8000"]);
    },
    SLOW,
  );

  test(
    "a deleted pod leaves; a terminating one leaves at once",
    async () => {
      h = await startHarness({
        seed: (s) => {
          s.apply(pool());
          s.apply(pod("vllm-0", { ip: "10.0.0.1" }));
          s.apply(pod("vllm-1", { ip: "10.0.0.2" }));
        },
      });
      await untilNames(h, ["vllm-0:8000", "vllm-1:8000"]);
      h.server.remove("v1", "Pod", "vllm-0", NS);
      await untilNames(h, ["vllm-1:8000"]);
      h.server.terminatePod("vllm-1");
      await untilNames(h, []);
    },
    SLOW,
  );

  test(
    "a pod that loses its IP leaves, and comes back with a new one",
    async () => {
      h = await startHarness({
        seed: (s) => {
          s.apply(pool());
          s.apply(pod("vllm-0", { ip: "10.0.0.1" }));
        },
      });
      await untilNames(h, ["vllm-0:8000"]);
      h.server.setPodIP("vllm-0", undefined);
      await untilNames(h, []);
      h.server.setPodIP("vllm-0", "10.0.0.9");
      await untilNames(h, ["vllm-0:8000"]);
      expect(h.endpoints.at(-1)![0]!.address).toBe("10.0.0.9:8000");
    },
    SLOW,
  );

  test(
    "a pool selector change re-derives endpoints (re-listing pods with the new selector)",
    async () => {
      h = await startHarness({
        seed: (s) => {
          s.apply(pool({ app: "vllm" }));
          s.apply(pod("a-0", { ip: "10.0.0.1", labels: { app: "vllm", model: "a" } }));
          s.apply(pod("b-0", { ip: "10.0.0.2", labels: { app: "vllm", model: "b" } }));
          s.apply(pod("other", { ip: "10.0.0.3", labels: { app: "sglang" } }));
        },
      });
      await untilNames(h, ["a-0:8000", "b-0:8000"]);
      h.server.update(POOL_API, "InferencePool", POOL, (p) => {
        (p["spec"] as { selector: unknown }).selector = { matchLabels: { app: "vllm", model: "b" } };
      });
      await untilNames(h, ["b-0:8000"]);
      const podLists = h.server.requests.filter((r) => r.path.endsWith("/pods") && !r.watch);
      expect(podLists.at(-1)!.query["labelSelector"]).toBe("app=vllm,model=b");
      // The new watch follows the new selector: a new matching pod shows up, others do not.
      h.server.apply(pod("b-1", { ip: "10.0.0.4", labels: { app: "vllm", model: "b" } }));
      h.server.apply(pod("a-1", { ip: "10.0.0.5", labels: { app: "vllm", model: "a" } }));
      await untilNames(h, ["b-0:8000", "b-1:8000"]);
      h.server.update(POOL_API, "InferencePool", POOL, (p) => {
        (p["spec"] as { selector: unknown }).selector = { matchLabels: { app: "sglang" } };
      });
      await untilNames(h, ["other:8000"]);
    },
    SLOW,
  );

  test(
    "a pool port change re-derives endpoints without a pod re-list",
    async () => {
      h = await startHarness({
        seed: (s) => {
          s.apply(pool({ app: "vllm" }, [8000]));
          s.apply(pod("vllm-0", { ip: "10.0.0.1" }));
        },
      });
      await untilNames(h, ["vllm-0:8000"]);
      const lists = () => h!.server.requests.filter((r) => r.path.endsWith("/pods") && !r.watch).length;
      const before = lists();
      h.server.update(POOL_API, "InferencePool", POOL, (p) => {
        (p["spec"] as { targetPorts: unknown }).targetPorts = [{ number: 8002 }, { number: 8003 }];
      });
      await untilNames(h, ["vllm-0:8002", "vllm-0:8003"]);
      expect(lists()).toBe(before);
      expect(h.pools.at(-1)!.spec.targetPorts.map((p) => p.number)).toEqual([8002, 8003]);
    },
    SLOW,
  );

  test(
    "no pool: no endpoints; the pool appears, then is deleted (it leaves the pools before its endpoints empty)",
    async () => {
      h = await startHarness({ seed: (s) => s.apply(pod("vllm-0", { ip: "10.0.0.1" })) });
      await h.discovery.ready;
      expect(h.pools).toEqual([undefined]);
      expect(h.poolLists).toEqual([[]]);
      expect(h.endpoints).toEqual([]); // a pool not served has no endpoints to report
      h.server.apply(pool());
      await untilNames(h, ["vllm-0:8000"]);
      expect(h.pools.at(-1)!.metadata.name).toBe(POOL);
      h.server.remove(POOL_API, "InferencePool", POOL, NS);
      await untilNames(h, []);
      expect(h.pools.at(-1)).toBeUndefined(); // onPools without it came first
    },
    SLOW,
  );

  test(
    "engine comes from the pod's engine-type label",
    async () => {
      h = await startHarness({
        seed: (s) => {
          s.apply(pool());
          s.apply(pod("sg", { ip: "10.0.0.1", labels: { app: "vllm", "llm-d.ai/engine-type": "sglang" } }));
          s.apply(
            pod("trt", {
              ip: "10.0.0.2",
              labels: { app: "vllm", "inference.networking.k8s.io/engine-type": "trtllm-serve" },
            }),
          );
        },
      });
      await untilNames(h, ["sg:8000", "trt:8000"]);
      expect(h.endpoints.at(-1)!.map((e) => e.engine)).toEqual(["sglang", "trtllm-serve"]);
    },
    SLOW,
  );

  test(
    "at start-up the first report already holds the listed pods (no transient empty set)",
    async () => {
      h = await startHarness({
        seed: (s) => {
          s.apply(pool());
          s.apply(pod("vllm-0", { ip: "10.0.0.1" }));
        },
      });
      await h.discovery.ready;
      expect(h.endpoints.map((e) => e.map((x) => x.name))).toEqual([["vllm-0:8000"]]);
    },
    SLOW,
  );
});
