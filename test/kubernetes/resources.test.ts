import { afterEach, describe, expect, test } from "bun:test";
import { LLMD_GROUP, NS, objective, pool, rewrite, X_GROUP } from "./fake-objects.ts";
import { type Harness, startHarness, until } from "./helpers.ts";

/** Generous per-test limit for a noisy 2-core machine; waits inside poll, never sleep. */
const SLOW = 30_000;
let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const rewriteEvents = (x: Harness) => x.rewrites.length;

describe("kubernetes discovery: objectives and rewrites", () => {
  test(
    "a rewrite created, edited and deleted: onRewrites follows, in both API groups",
    async () => {
      h = await startHarness({ seed: (s) => s.apply(pool()) });
      await h.discovery.ready;
      expect(h.rewrites).toEqual([[]]);

      h.server.apply(
        rewrite("canary", [{ from: ["llama"], to: { "llama-v1": 90, "llama-v2": 10 } }], {
          created: "2025-01-02T00:00:00Z",
        }),
      );
      await until(() => h!.lastRewrites().length === 1 || undefined, "one rewrite");
      expect(h.lastRewrites()).toEqual(["inference.networking.x-k8s.io:canary"]);
      expect(h.rewrites.at(-1)![0]!.spec.rules[0]!.targets.map((t) => t.weight)).toEqual([90, 10]);

      h.server.apply(
        rewrite("older", [{ to: { base: undefined } }], {
          group: LLMD_GROUP,
          created: "2025-01-01T00:00:00Z",
        }),
      );
      await until(() => h!.lastRewrites().length === 2 || undefined, "two rewrites");
      // sorted by creationTimestamp: the llm-d.ai one is older
      expect(h.lastRewrites()).toEqual(["llm-d.ai:older", "inference.networking.x-k8s.io:canary"]);

      h.server.update(X_GROUP, "InferenceModelRewrite", "canary", (r) => {
        const rule = (r["spec"] as { rules: { targets: { weight?: number }[] }[] }).rules[0]!;
        rule.targets[0]!.weight = 50;
        rule.targets[1]!.weight = 50;
      });
      await until(
        () =>
          h!.rewrites.at(-1)!.find((r) => r.metadata.name === "canary")?.spec.rules[0]?.targets[0]?.weight ===
            50 || undefined,
        "the edited weights",
      );

      h.server.remove(X_GROUP, "InferenceModelRewrite", "canary", NS);
      await until(
        () => JSON.stringify(h!.lastRewrites()) === '["llm-d.ai:older"]' || undefined,
        "canary deleted",
      );
    },
    SLOW,
  );

  test(
    "objectives for another pool are ignored; both groups are read",
    async () => {
      h = await startHarness({
        seed: (s) => {
          s.apply(pool());
          s.apply(objective("chat", 10));
          s.apply(objective("batch", -1, "vllm-pool", LLMD_GROUP));
          s.apply(objective("foreign", 100, "other-pool"));
        },
      });
      await h.discovery.ready;
      await until(() => h!.objectives.length > 0 || undefined, "objectives");
      const names = h.objectives.at(-1)!.map((o) => `${o.metadata.name}=${o.spec.priority}`);
      expect(names.sort()).toEqual(["batch=-1", "chat=10"]);
      // Only a change that matters to this pool notifies.
      const before = h.objectives.length;
      h.server.apply(objective("foreign2", 5, "other-pool"));
      h.server.apply(objective("chat", 20));
      await until(
        () => h!.objectives.at(-1)!.some((o) => o.spec.priority === 20) || undefined,
        "chat priority 20",
      );
      expect(h.objectives.length).toBe(before + 1);
    },
    SLOW,
  );

  test(
    "an invalid document is logged and skipped, and discovery goes on",
    async () => {
      h = await startHarness({ seed: (s) => s.apply(pool()) });
      await h.discovery.ready;
      const bad = rewrite("bad", [{ from: ["m"], to: { a: 0 } }]); // weight 0 is out of range
      h.server.apply(bad);
      h.server.apply(rewrite("good", [{ from: ["m"], to: { a: undefined } }]));
      await until(
        () => JSON.stringify(h!.lastRewrites()) === '["inference.networking.x-k8s.io:good"]' || undefined,
        "good only",
      );
      const warn = h.logs.find((l) => l.msg === "kubernetes: invalid resource skipped");
      expect(warn?.["resource"]).toBe("InferenceModelRewrite/llm/bad");
      expect(String(warn?.["error"])).toContain("weight");
      // fixing it brings it in
      h.server.update(X_GROUP, "InferenceModelRewrite", "bad", (r) => {
        (r["spec"] as { rules: { targets: { weight?: number }[] }[] }).rules[0]!.targets[0]!.weight = 1;
      });
      await until(() => h!.lastRewrites().length === 2 || undefined, "bad fixed");
    },
    SLOW,
  );

  test(
    "a group whose CRD is not installed is logged once, retried slowly, and picked up when installed",
    async () => {
      h = await startHarness({
        server: { installed: ["inference.networking.k8s.io/v1", X_GROUP] },
        seed: (s) => s.apply(pool()),
      });
      await h.discovery.ready; // a missing CRD does not block readiness
      const notFound = () =>
        h!.logs.filter(
          (l) =>
            l.msg.startsWith("kubernetes: collection not found") && String(l["what"]).includes(LLMD_GROUP),
        );
      await until(() => notFound().length === 2 || undefined, "one warning per llm-d.ai kind");
      // retried (every 300 ms in tests) without logging again
      const lists = () => h!.server.requests.filter((r) => r.path.includes("/llm-d.ai/") && !r.watch).length;
      await until(() => lists() >= 6 || undefined, "slow retries");
      expect(notFound().length).toBe(2);

      h.server.install(LLMD_GROUP);
      h.server.apply(rewrite("late", [{ to: { x: undefined } }], { group: LLMD_GROUP }));
      await until(
        () => JSON.stringify(h!.lastRewrites()) === '["llm-d.ai:late"]' || undefined,
        "rewrite of the late CRD",
      );
      expect(rewriteEvents(h)).toBeGreaterThan(0);
    },
    SLOW,
  );

  test(
    "the same name in both groups is used once (the older), with a warning",
    async () => {
      h = await startHarness({
        seed: (s) => {
          s.apply(pool());
          s.apply(
            rewrite("dup", [{ to: { new: undefined } }], {
              group: LLMD_GROUP,
              created: "2025-02-01T00:00:00Z",
            }),
          );
          s.apply(rewrite("dup", [{ to: { old: undefined } }], { created: "2025-01-01T00:00:00Z" }));
        },
      });
      await h.discovery.ready;
      await until(() => h!.rewrites.length > 0 || undefined, "rewrites");
      expect(h.lastRewrites()).toEqual(["inference.networking.x-k8s.io:dup"]);
      expect(h.logs.some((l) => l.msg.includes("same resource name in both API groups"))).toBe(true);
    },
    SLOW,
  );
});
