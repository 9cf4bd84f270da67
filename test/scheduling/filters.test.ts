import { describe, expect, test } from "bun:test";
import { type LabelRequirement, labelSelectorFilter } from "../../plugins/label-selector-filter.ts";
import { utilizationFilter } from "../../plugins/utilization-filter.ts";
import type { MetricsSnapshot } from "../../src/endpoints/types.ts";
import { context, endpoint, NOW } from "./helpers.ts";

describe("utilization-filter: max(waiting/5, kv/0.8) >= 1 is dropped, never all", () => {
  test.each([
    { case: "all fine", metrics: [{}, { waitingQueueSize: 4 }, { kvCacheUsage: 0.79 }], keep: [0, 1, 2] },
    { case: "queue at threshold dropped", metrics: [{}, { waitingQueueSize: 5 }], keep: [0] },
    { case: "kv at threshold dropped", metrics: [{ kvCacheUsage: 0.8 }, {}], keep: [1] },
    {
      case: "all saturated: keep all",
      metrics: [{ waitingQueueSize: 9 }, { kvCacheUsage: 0.95 }],
      keep: [0, 1],
    },
    { case: "stale metrics dropped", metrics: [{ updatedAt: NOW - 2001 }, {}], keep: [1] },
    { case: "never scraped dropped", metrics: [{ updatedAt: 0 }, {}], keep: [1] },
    { case: "all stale: keep all", metrics: [{ updatedAt: 0 }, { updatedAt: 0 }], keep: [0, 1] },
  ] as { case: string; metrics: Partial<MetricsSnapshot>[]; keep: number[] }[])(
    "$case",
    ({ metrics, keep }) => {
      const eps = metrics.map((m, i) => endpoint(`e${i}`, m));
      const kept = utilizationFilter().filter(context(), eps);
      expect(kept.map((e) => e.name)).toEqual(keep.map((i) => `e${i}`));
    },
  );

  test.each([
    { params: { queueDepthThreshold: 10 }, metrics: { waitingQueueSize: 9 }, kept: true },
    { params: { kvCacheUtilThreshold: 0.95 }, metrics: { kvCacheUsage: 0.9 }, kept: true },
    { params: { metricsStalenessThresholdMs: 0 }, metrics: { updatedAt: 0 }, kept: true },
  ])("parameters: $params", ({ params, metrics, kept }) => {
    const eps = [endpoint("e0", metrics), endpoint("e1")];
    const out = utilizationFilter({ params }).filter(context(), eps);
    expect(out.includes(eps[0]!)).toBe(kept);
  });
});

describe("label-selector-filter", () => {
  const eps = [
    endpoint("a", {}, { labels: { zone: "x", gpu: "h100" } }),
    endpoint("b", {}, { labels: { zone: "y", gpu: "h100" } }),
    endpoint("c", {}, { labels: {} }),
  ];
  test.each<{ case: string; matchLabels: Record<string, string>; keep: string[] }>([
    { case: "one label", matchLabels: { zone: "x" }, keep: ["a"] },
    { case: "labels are ANDed", matchLabels: { zone: "y", gpu: "h100" }, keep: ["b"] },
    { case: "shared label", matchLabels: { gpu: "h100" }, keep: ["a", "b"] },
    { case: "nobody matches: empty (the runner reports saturated)", matchLabels: { zone: "z" }, keep: [] },
  ])("$case", ({ matchLabels, keep }) => {
    expect(
      labelSelectorFilter({ matchLabels })
        .filter(context(), eps)
        .map((e) => e.name),
    ).toEqual(keep);
  });

  test.each<{
    case: string;
    matchExpressions: LabelRequirement[];
    matchLabels?: Record<string, string>;
    keep: string[];
  }>([
    { case: "In", matchExpressions: [{ key: "zone", operator: "In", values: ["x", "y"] }], keep: ["a", "b"] },
    {
      case: "NotIn keeps the unlabelled",
      matchExpressions: [{ key: "zone", operator: "NotIn", values: ["x"] }],
      keep: ["b", "c"],
    },
    { case: "Exists", matchExpressions: [{ key: "gpu", operator: "Exists" }], keep: ["a", "b"] },
    { case: "DoesNotExist", matchExpressions: [{ key: "gpu", operator: "DoesNotExist" }], keep: ["c"] },
    {
      case: "ANDed with matchLabels",
      matchLabels: { gpu: "h100" },
      matchExpressions: [{ key: "zone", operator: "NotIn", values: ["x"] }],
      keep: ["b"],
    },
  ])("matchExpressions: $case", ({ matchExpressions, matchLabels, keep }) => {
    expect(
      labelSelectorFilter({ matchExpressions, ...(matchLabels ? { matchLabels } : {}) })
        .filter(context(), eps)
        .map((e) => e.name),
    ).toEqual(keep);
  });
});
