import { describe, expect, test } from "bun:test";
import { concurrencyDetector } from "../../plugins/flow/concurrency-detector.ts";
import { createSaturationDetector, defaultSaturationDetector } from "../../plugins/flow/index.ts";
import { maxSaturationDetector } from "../../plugins/flow/max-saturation-detector.ts";
import { utilizationDetector } from "../../plugins/flow/utilization-detector.ts";
import { ConfigError } from "../../src/config/errors.ts";
import type { Endpoint, MetricsSnapshot } from "../../src/endpoints/types.ts";
import type { SaturationDetector } from "../../src/flow/control/index.ts";
import { endpoint } from "./helpers.ts";

const NOW = 10_000;
const inflight = (total: number) => ({ total: () => total, get: () => 0 });
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
    expect(d.saturation({ endpoints, inflight: inflight(0), now: NOW })).toBeCloseTo(expected, 10);
  });

  test("parameters change the thresholds", () => {
    const custom = utilizationDetector({
      queueDepthThreshold: 10,
      kvCacheUtilThreshold: 0.5,
      metricsStalenessThreshold: 100,
    });
    const input = (m: Partial<MetricsSnapshot>) => ({ endpoints: pods(m), inflight: inflight(0), now: NOW });
    expect(custom.saturation(input({ waitingQueueSize: 5 }))).toBe(0.5);
    expect(custom.saturation(input({ kvCacheUsage: 0.25 }))).toBe(0.5);
    expect(custom.saturation(input({ updatedAt: NOW - 101 }))).toBe(1);
  });
});

describe("concurrency-detector: in-flight / (endpoints × maxConcurrency)", () => {
  test.each<[string, number, number, number | undefined, number]>([
    ["idle", 2, 0, undefined, 0],
    ["half of 2×100", 2, 100, undefined, 0.5],
    ["full", 1, 100, undefined, 1],
    ["over", 1, 150, undefined, 1.5],
    ["maxConcurrency 10", 4, 20, 10, 0.5],
    ["no endpoints", 0, 0, undefined, 1],
  ])("%s", (_name, n, total, max, expected) => {
    const d = concurrencyDetector(max === undefined ? {} : { maxConcurrency: max });
    const endpoints = Array.from({ length: n }, (_, i) => pod({}, i));
    expect(d.saturation({ endpoints, inflight: inflight(total), now: NOW })).toBe(expected);
  });
});

describe("max-saturation-detector", () => {
  const fixed = (v: number): SaturationDetector => ({ type: "f", name: "f", saturation: () => v });
  const input = { endpoints: pods({}), inflight: inflight(0), now: NOW };

  test.each<[number[], number]>([
    [[0.2, 0.7], 0.7],
    [[1.5, 0.1, 0.3], 1.5],
    [[Number.NaN, 0.2], 1],
  ])("max of %p = %p", (values, expected) => {
    expect(maxSaturationDetector(values.map(fixed)).saturation(input)).toBe(expected);
  });

  test("the default combines utilization and concurrency", () => {
    const d = defaultSaturationDetector();
    expect(d.saturation({ endpoints: pods({ kvCacheUsage: 0.4 }), inflight: inflight(80), now: NOW })).toBe(
      0.8,
    );
    expect(d.saturation({ endpoints: pods({ kvCacheUsage: 0.4 }), inflight: inflight(10), now: NOW })).toBe(
      0.5,
    );
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
    expect(d.saturation({ endpoints: pods({}), inflight: inflight(2), now: NOW })).toBe(0.5);
    expect(d.saturation({ endpoints: pods({ updatedAt: NOW - 201 }), inflight: inflight(0), now: NOW })).toBe(
      1,
    );
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
