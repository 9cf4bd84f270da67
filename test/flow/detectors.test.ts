import { describe, expect, test } from "bun:test";
import { concurrencyDetector } from "../../plugins/flow/concurrency-detector.ts";
import { createSaturationDetector, defaultSaturationDetector } from "../../plugins/flow/index.ts";
import { maxSaturationDetector } from "../../plugins/flow/max-saturation-detector.ts";
import { utilizationDetector } from "../../plugins/flow/utilization-detector.ts";
import { ConfigError } from "../../src/config/errors.ts";
import type { Endpoint, MetricsSnapshot } from "../../src/endpoints/types.ts";
import { type LoadSource, poolScore, type SaturationDetector } from "../../src/flow/control/index.ts";
import { endpoint } from "./helpers.ts";

const NOW = 10_000;
/** Loads straight from the scrape, plus `inflight` per endpoint (nothing sent since the scrape). */
const scraped = (inflight = 0): LoadSource => ({
  load: (e, extra = 0) => ({
    waiting: e.metrics.waitingQueueSize + extra,
    running: e.metrics.runningRequests + extra,
    kvUsage: e.metrics.kvCacheUsage,
    inflight: inflight + extra,
  }),
});
const pool = (d: SaturationDetector, endpoints: readonly Endpoint[], inflight = 0) =>
  poolScore(d, scraped(inflight), endpoints, NOW);
const pod = (m: Partial<MetricsSnapshot>, i = 0) => endpoint(`p${i}`, { updatedAt: NOW - 100, ...m });
const pods = (...ms: Partial<MetricsSnapshot>[]) => ms.map((m, i) => pod(m, i));

describe("utilization-detector: score = max(waiting/5, kv/0.8); pool = mean", () => {
  const d = utilizationDetector();
  test.each<[string, Endpoint[], number]>([
    ["idle pod", pods({}), 0],
    ["queue 5 = threshold", pods({ waitingQueueSize: 5 }), 1],
    ["queue 2", pods({ waitingQueueSize: 2 }), 0.4],
    ["kv 0.4", pods({ kvCacheUsage: 0.4 }), 0.5],
    ["kv 0.8 = threshold", pods({ kvCacheUsage: 0.8 }), 1],
    ["max of the two", pods({ waitingQueueSize: 1, kvCacheUsage: 0.6 }), 0.75],
    ["overloaded pod > 1", pods({ waitingQueueSize: 10 }), 2],
    ["mean over pods", pods({ waitingQueueSize: 5 }, {}, { kvCacheUsage: 0.4 }), 0.5],
    ["no endpoints = saturated", [], 1],
    ["never scraped = saturated", [endpoint("x", { updatedAt: 0 })], 1],
    ["stale (older than 2 s) = saturated", pods({ updatedAt: NOW - 2001 }), 1],
    ["exactly 2 s old is still fresh", pods({ updatedAt: NOW - 2000 }), 0],
    ["stale keeps a higher score", pods({ updatedAt: NOW - 5000, waitingQueueSize: 15 }), 3],
    ["one stale pod of two", pods({ updatedAt: NOW - 5000 }, {}), 0.5],
  ])("%s", (_name, endpoints, expected) => {
    expect(pool(d, endpoints)).toBeCloseTo(expected, 10);
  });

  test("parameters change the thresholds", () => {
    const custom = utilizationDetector({
      queueDepthThreshold: 10,
      kvCacheUtilThreshold: 0.5,
      metricsStalenessThreshold: 100,
    });
    expect(pool(custom, pods({ waitingQueueSize: 5 }))).toBe(0.5);
    expect(pool(custom, pods({ kvCacheUsage: 0.25 }))).toBe(0.5);
    expect(pool(custom, pods({ updatedAt: NOW - 101 }))).toBe(1);
  });
});

describe("concurrency-detector: in-flight(e) / maxConcurrency; pool = mean", () => {
  test.each<[string, number, number, number | undefined, number]>([
    ["idle", 2, 0, undefined, 0],
    ["half of 100 on each of 2", 2, 50, undefined, 0.5],
    ["full", 1, 100, undefined, 1],
    ["over", 1, 150, undefined, 1.5],
    ["maxConcurrency 10", 4, 5, 10, 0.5],
    ["no endpoints", 0, 0, undefined, 1],
  ])("%s", (_name, n, perEndpoint, max, expected) => {
    const d = concurrencyDetector(max === undefined ? {} : { maxConcurrency: max });
    const endpoints = Array.from({ length: n }, (_, i) => pod({}, i));
    expect(pool(d, endpoints, perEndpoint)).toBe(expected);
  });
});

describe("max-saturation-detector", () => {
  const fixed = (v: number): SaturationDetector => ({ type: "f", name: "f", score: () => v });

  test.each<[number[], number]>([
    [[0.2, 0.7], 0.7],
    [[1.5, 0.1, 0.3], 1.5],
    [[Number.NaN, 0.2], 1],
  ])("max of %p = %p", (values, expected) => {
    expect(pool(maxSaturationDetector(values.map(fixed)), pods({}))).toBe(expected);
  });

  test("the default combines utilization and concurrency", () => {
    const d = defaultSaturationDetector();
    expect(pool(d, pods({ kvCacheUsage: 0.4 }), 80)).toBe(0.8);
    expect(pool(d, pods({ kvCacheUsage: 0.4 }), 10)).toBe(0.5);
  });
});

describe("detectors from YAML specs", () => {
  test("parameters are validated and applied", () => {
    const d = createSaturationDetector({
      type: "max-saturation-detector",
      parameters: {
        detectors: [
          { type: "utilization-detector", parameters: { metricsStalenessThreshold: "200ms" } },
          { type: "concurrency-detector", parameters: { maxConcurrency: 4 } },
        ],
      },
    });
    expect(pool(d, pods({}), 2)).toBe(0.5);
    expect(pool(d, pods({ updatedAt: NOW - 201 }))).toBe(1);
  });

  test.each([
    [
      "maxConcurrency 0",
      { type: "concurrency-detector", parameters: { maxConcurrency: 0 } },
      "maxConcurrency",
    ],
    [
      "staleness without a unit",
      { type: "utilization-detector", parameters: { metricsStalenessThreshold: 200 } },
      "metricsStalenessThreshold",
    ],
    ["unknown parameter", { type: "utilization-detector", parameters: { typo: 1 } }, "typo"],
    ["unknown type", { type: "no-such-detector" }, "saturation detector"],
  ])("bad spec (%s) is a ConfigError naming the field", (_name, spec, fragment) => {
    expect(() => createSaturationDetector(spec)).toThrow(ConfigError);
    expect(() => createSaturationDetector(spec)).toThrow(fragment);
  });
});
