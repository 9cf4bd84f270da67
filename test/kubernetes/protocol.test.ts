import { afterEach, describe, expect, test } from "bun:test";
import { startKubernetesDiscovery } from "../../src/kubernetes/index.ts";
import { createLogger } from "../../src/log.ts";
import { FakeTime } from "../helpers/fake-time.ts";
import { FakeApiServer } from "./fake-apiserver.ts";
import { NS, POOL, pod, pool, writeKubeconfig } from "./fake-objects.ts";
import { type Harness, startHarness, TEST_TUNING, until, untilNames } from "./helpers.ts";

/** Generous per-test limit for a noisy 2-core machine; waits inside poll, never sleep. */
const SLOW = 30_000;
let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const podRequests = (x: Harness, watch: boolean) =>
  x.server.requests.filter((r) => r.path === `/api/v1/namespaces/${NS}/pods` && r.watch === watch);

const seeded = (s: FakeApiServer) => {
  s.apply(pool());
  s.apply(pod("vllm-0", { ip: "10.0.0.1" }));
};

describe("kubernetes discovery: the watch protocol", () => {
  test(
    "lists once, then follows changes over one watch from the list's resourceVersion",
    async () => {
      h = await startHarness({ seed: seeded });
      await untilNames(h, ["vllm-0:8000"]);
      h.server.apply(pod("vllm-1", { ip: "10.0.0.2" }));
      h.server.setPodReady("vllm-0", false);
      await untilNames(h, ["vllm-1:8000"]);
      const lists = podRequests(h, false);
      const watches = podRequests(h, true);
      expect(lists.length).toBe(1);
      expect(watches.length).toBe(1);
      expect(lists[0]!.query["labelSelector"]).toBe("app=vllm");
      expect(watches[0]!.query).toMatchObject({
        watch: "1",
        allowWatchBookmarks: "true",
        labelSelector: "app=vllm",
      });
      expect(Number(watches[0]!.query["resourceVersion"])).toBeGreaterThan(0);
      expect(Number(watches[0]!.query["timeoutSeconds"])).toBeGreaterThanOrEqual(120);
    },
    SLOW,
  );

  test(
    "the API server restarts mid-watch: discovery recovers and sees changes made while it was down",
    async () => {
      h = await startHarness({ seed: seeded });
      await untilNames(h, ["vllm-0:8000"]);
      const server = h.server;
      await server.restart({
        downMs: 600,
        during: () => {
          server.apply(pod("vllm-1", { ip: "10.0.0.2" }));
          server.setPodReady("vllm-0", false);
        },
      });
      await untilNames(h, ["vllm-1:8000"]);
      // It resumed the watch from its resourceVersion (history intact): no re-list needed.
      expect(podRequests(h, false).length).toBe(1);
      expect(h.logs.some((l) => l.level === "error" && String(l["what"]).startsWith("pods"))).toBe(true);
      await until(
        () => h!.logs.some((l) => l.msg === "kubernetes: connection recovered") || undefined,
        "recovery log",
      );
      server.apply(pod("vllm-2", { ip: "10.0.0.3" }));
      await untilNames(h, ["vllm-1:8000", "vllm-2:8000"]);
    },
    SLOW,
  );

  test(
    "410 Gone after a restart with compacted history: re-list and replace state",
    async () => {
      h = await startHarness({ seed: seeded });
      await untilNames(h, ["vllm-0:8000"]);
      const server = h.server;
      await server.restart({
        downMs: 300,
        compact: true,
        during: () => {
          server.remove("v1", "Pod", "vllm-0", NS);
          server.apply(pod("vllm-1", { ip: "10.0.0.2" }));
        },
      });
      await untilNames(h, ["vllm-1:8000"]);
      expect(podRequests(h, false).length).toBe(2); // the initial list and the re-list after 410
      expect(h.logs.some((l) => l.msg.includes("410 Gone") && String(l["what"]).startsWith("pods"))).toBe(
        true,
      );
      server.apply(pod("vllm-2", { ip: "10.0.0.3" }));
      await untilNames(h, ["vllm-1:8000", "vllm-2:8000"]);
    },
    SLOW,
  );

  test(
    "an ERROR event with code 410 on an open watch: re-list",
    async () => {
      h = await startHarness({ seed: seeded });
      await untilNames(h, ["vllm-0:8000"]);
      // The pod watch must be open to be expired (endpoints are reported before it opens).
      await until(() => h!.server.watchRequests("pods").length > 0 || undefined, "the pod watch");
      h.server.compact();
      h.server.expireWatches();
      await until(() => podRequests(h!, false).length === 2 || undefined, "a pod re-list");
      h.server.apply(pod("vllm-1", { ip: "10.0.0.2" }));
      await untilNames(h, ["vllm-0:8000", "vllm-1:8000"]);
    },
    SLOW,
  );

  test(
    "a bad token: the 401 is logged as an error and retried until the token is accepted",
    async () => {
      const server = await FakeApiServer.start();
      seeded(server);
      server.token = "rotated";
      const logs: { level: string; msg: string; error?: string }[] = [];
      const seen: string[][] = [];
      const discovery = await startKubernetesDiscovery({
        namespaces: [NS],
        pools: [POOL],
        kubeconfig: writeKubeconfig(server.url, "s3cret-token"),
        logger: createLogger("debug", (l) => logs.push(JSON.parse(l))),
        tuning: TEST_TUNING,
        onEndpoints: (_pool, e) => seen.push(e.map((x) => x.name)),
        onPools: () => {},
        onObjectives: () => {},
        onRewrites: () => {},
      });
      try {
        await until(
          () => server.requests.filter((r) => r.status === 401).length >= 12 || undefined,
          "401 retries",
        );
        const errors = logs.filter((l) => l.level === "error");
        expect(errors.some((l) => String(l.error).includes("401 Unauthorized"))).toBe(true);
        // One error per collection for the streak, not one per retry.
        expect(errors.length).toBeLessThanOrEqual(6);
        server.token = "s3cret-token";
        await until(
          () => JSON.stringify(seen.at(-1)) === '["vllm-0:8000"]' || undefined,
          "endpoints once accepted",
        );
        await discovery.ready;
      } finally {
        await discovery.stop();
        await server.stop();
      }
    },
    SLOW,
  );

  test(
    "large collections are listed page by page (limit/continue)",
    async () => {
      h = await startHarness({
        seed: (s) => {
          s.apply(pool());
          for (let i = 0; i < 1203; i++)
            s.apply(pod(`p-${String(i).padStart(4, "0")}`, { ip: `10.1.${i >> 8}.${i & 255}` }));
        },
      });
      await h.discovery.ready;
      expect(h.names().length).toBe(1203);
      const lists = podRequests(h, false);
      expect(lists.length).toBe(3); // 500 + 500 + 203
      expect(lists[1]!.query["continue"]).toBeTruthy();
    },
    SLOW,
  );

  test(
    "stop() closes every watch and leaves nothing running",
    async () => {
      const time = new FakeTime();
      h = await startHarness({ seed: seeded, tuning: { ...TEST_TUNING, setTimer: time.setTimer } });
      await h.discovery.ready;
      await until(() => h!.server.openWatches === 6 || undefined, "six open watches");
      expect(time.pending).toBe(6); // one deadline per open watch
      await h.discovery.stop(); // resolves once every watch loop has returned
      expect(time.pending).toBe(0); // no deadline, back-off or retry left to wake anything up
      await until(() => h!.server.openWatches === 0 || undefined, "watches closed server-side");
      const count = h.server.requests.length;
      h.server.apply(pod("vllm-1", { ip: "10.0.0.2" }));
      await time.advanceAsync(3_600_000); // an hour of fake time: nothing wakes up
      expect(h.server.requests.length).toBe(count);
    },
    SLOW,
  );
});
