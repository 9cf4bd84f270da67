import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { parse as parseYaml } from "yaml";
import { builtinFlowPolicies } from "../../plugins/flow/index.ts";
import { FLOW_PLUGINS } from "../../plugins/index.ts";
import { ConfigError } from "../../src/config/errors.ts";
import { ConfigHolder } from "../../src/config/holder.ts";
import { EndpointPickerConfigSchema } from "../../src/config/resources.ts";
import { InFlight } from "../../src/endpoints/inflight.ts";
import { EndpointStore } from "../../src/endpoints/store.ts";
import { createAdmitter, saturationDetectorOf, withUsageLimits } from "../../src/flow/admitter.ts";
import { flowControlNotes, NO_TTL_MS } from "../../src/flow/control/config.ts";
import {
  createFlowController,
  FlowControlConfigSchema,
  flowControlSettings,
} from "../../src/flow/control/index.ts";
import type { SaturationDetector } from "../../src/flow/control/types.ts";
import { parseDuration, parseQuantity } from "../../src/flow/control/units.ts";
import { silentLogger } from "../../src/log.ts";
import { LoadTracker } from "../../src/scheduling/framework/load.ts";
import { testConfig } from "../helpers/config.ts";
import { FakeTime, manualDetector } from "./helpers.ts";

describe("units", () => {
  test.each<[string | number, number | undefined]>([
    [5000, 5000],
    ["5000", 5000],
    ["1Gi", 2 ** 30],
    ["1G", 1e9],
    ["500M", 5e8],
    ["5k", 5000],
    ["1.5Ki", 1536],
    ["1e9", 1e9],
    ["1GB", undefined],
    ["-1", undefined],
    ["", undefined],
    [-1, undefined],
  ])("quantity %p = %p", (input, expected) => {
    expect(parseQuantity(input)).toBe(expected);
  });

  test.each<[string, number | undefined]>([
    ["60s", 60_000],
    ["1m30s", 90_000],
    ["250ms", 250],
    ["1h", 3_600_000],
    ["1.5s", 1500],
    ["60", undefined],
    ["s", undefined],
    ["1d", undefined],
  ])("duration %p = %p ms", (input, expected) => {
    expect(parseDuration(input)).toBe(expected);
  });
});

describe("FlowControlConfigSchema", () => {
  test("defaults: 5000 requests and 1 GB per band, 60 s TTL, no global limit, ceiling 1.0", () => {
    const s = flowControlSettings({});
    expect(s.ttlMs).toBe(60_000);
    expect(s.maxRequests).toBe(Number.POSITIVE_INFINITY);
    expect(s.maxBytes).toBe(Number.POSITIVE_INFINITY);
    expect(s.band(0)).toEqual({
      priority: 0,
      maxRequests: 5000,
      maxBytes: 1_000_000_000,
      fairnessPolicyRef: "global-strict-fairness-policy",
      orderingPolicyRef: "fcfs-ordering-policy",
      ceiling: 1,
      ttlMs: 60_000,
      ttlPath: "flowControl.defaultRequestTTL",
      path: "flowControl.defaultPriorityBand",
    });
  });

  test("a GIE-style YAML section", () => {
    const yaml = `
maxBytes: 10Gi
maxRequests: 20k
defaultRequestTTL: 30s
defaultPriorityBand:
  maxRequests: 1000
  fairnessPolicyRef: round-robin-fairness-policy
priorityBands:
- priority: 100
  priorityName: critical
  maxBytes: 2G
  orderingPolicyRef: edf-ordering-policy
- priority: -1
  ceiling: 0.8
  fairnessPolicyRef: token-fairness-policy
`;
    const s = flowControlSettings(parseYaml(yaml));
    expect(s.ttlMs).toBe(30_000);
    expect(s.maxBytes).toBe(10 * 2 ** 30);
    expect(s.maxRequests).toBe(20_000);
    expect(s.band(100)).toMatchObject({
      maxRequests: 1000,
      maxBytes: 2e9,
      fairnessPolicyRef: "round-robin-fairness-policy",
      orderingPolicyRef: "edf-ordering-policy",
      ceiling: 1,
      path: "flowControl.priorityBands[0]",
    });
    expect(s.band(-1)).toMatchObject({ ceiling: 0.8, fairnessPolicyRef: "token-fairness-policy" });
    expect(s.band(7)).toMatchObject({ maxRequests: 1000, path: "flowControl.defaultPriorityBand" });
  });

  test.each<[string, unknown, string]>([
    ["TTL without unit", { defaultRequestTTL: 60 }, "defaultRequestTTL"],
    ["bad quantity", { maxBytes: "1GB" }, "maxBytes"],
    ["negative requests", { defaultPriorityBand: { maxRequests: -1 } }, "defaultPriorityBand.maxRequests"],
    ["negative TTL", { defaultRequestTTL: "-1s" }, "defaultRequestTTL"],
    ["ceiling 0", { priorityBands: [{ priority: 1, ceiling: 0 }] }, "priorityBands[0].ceiling"],
    ["duplicate band", { priorityBands: [{ priority: 1 }, { priority: 1 }] }, "each priority listed once"],
    ["typo", { maxRequest: 5 }, "maxRequest"],
    ["fractional priority", { priorityBands: [{ priority: 1.5 }] }, "priorityBands[0].priority"],
  ])("%s is a ConfigError naming the field", (_name, input, fragment) => {
    expect(() => flowControlSettings(input)).toThrow(ConfigError);
    expect(() => flowControlSettings(input)).toThrow(fragment);
  });

  test("llm-d v0.10: 0 means unlimited for limits and no TTL for durations", () => {
    const s = flowControlSettings({
      maxBytes: 0,
      maxRequests: "0",
      defaultRequestTTL: "0s",
      defaultPriorityBand: { maxRequests: 0 },
    });
    expect(s.maxBytes).toBe(Number.POSITIVE_INFINITY);
    expect(s.maxRequests).toBe(Number.POSITIVE_INFINITY);
    expect(s.band(7).maxRequests).toBe(Number.POSITIVE_INFINITY);
    expect(s.ttlMs).toBe(NO_TTL_MS);
  });

  test("defaultNegativePriorityBand covers unlisted negative priorities only", () => {
    const s = flowControlSettings({
      defaultPriorityBand: { maxRequests: 100 },
      defaultNegativePriorityBand: { maxRequests: 5, ceiling: 0.5 },
      priorityBands: [{ priority: -10, maxRequests: 50 }],
    });
    expect(s.band(-1)).toMatchObject({
      maxRequests: 5,
      ceiling: 0.5,
      path: "flowControl.defaultNegativePriorityBand",
    });
    expect(s.band(-10)).toMatchObject({ maxRequests: 50, path: "flowControl.priorityBands[0]" });
    expect(s.band(0)).toMatchObject({ maxRequests: 100, path: "flowControl.defaultPriorityBand" });
  });

  test("fields accepted but acted on differently each leave a start-up line", () => {
    const parsed = v.parse(FlowControlConfigSchema, {
      noEndpointRequestTTL: "5m",
      enableEviction: true,
      usageLimitPolicyPluginRef: "p",
      saturationDetector: { pluginRef: "concurrency-detector" },
      priorityBands: [{ priority: -1, defaultRequestTTL: "9000s" }],
    });
    // noEndpointRequestTTL, per-band defaultRequestTTL and enableEviction are applied now: no line.
    expect(flowControlNotes(parsed).map((n) => n.split(":")[0])).toEqual([
      "flowControl.usageLimitPolicyPluginRef (p)",
    ]);
    expect(flowControlNotes(v.parse(FlowControlConfigSchema, {}))).toEqual([]);
  });

  test("unknown policy names fail when the controller is built", () => {
    const build = (config: unknown) =>
      createFlowController({
        clock: new FakeTime().clock,
        policies: builtinFlowPolicies(),
        priorityOf: () => 0,
        saturation: manualDetector(),
        endpoints: { list: () => [] },
        config: v.parse(FlowControlConfigSchema, config),
      });
    expect(() => build({ priorityBands: [{ priority: 3, fairnessPolicyRef: "nope" }] })).toThrow(
      "flowControl.priorityBands[0].fairnessPolicyRef",
    );
    expect(() => build({ defaultPriorityBand: { orderingPolicyRef: "lifo" } })).toThrow(
      "flowControl.defaultPriorityBand.orderingPolicyRef",
    );
    expect(() => build({})).not.toThrow();
  });

  test("policy refs may name plugin instances from `plugins:`", () => {
    const policies = builtinFlowPolicies([
      { type: "token-fairness-policy", name: "tf", parameters: { outputTokenWeight: 3 } },
      { type: "queue-scorer" }, // not a flow plugin: ignored
    ]);
    expect(policies.fairness("tf")?.type).toBe("token-fairness-policy");
    expect(policies.fairness("round-robin-fairness-policy")?.name).toBe("round-robin-fairness-policy");
    expect(policies.ordering("tf")).toBeUndefined();
    expect(() =>
      builtinFlowPolicies([{ type: "token-fairness-policy", parameters: { bytesPerToken: 0 } }]),
    ).toThrow("plugins[token-fairness-policy].parameters bytesPerToken");
  });
});

describe("saturationDetector: {pluginRef} (GIE v1.5 top level, llm-d v0.10 under flowControl)", () => {
  const picker = (body: Record<string, unknown>) =>
    v.parse(EndpointPickerConfigSchema, {
      apiVersion: "llm-d.ai/v1alpha1",
      kind: "EndpointPickerConfig",
      ...body,
    });
  const detectors = [
    { type: "utilization-detector", name: "util", parameters: { queueDepthThreshold: 2 } },
    { type: "concurrency-detector", name: "conc", parameters: { maxConcurrency: 7 } },
  ];

  test.each([
    [
      "flowControl.saturationDetector names a declared detector",
      { plugins: detectors, flowControl: { saturationDetector: { pluginRef: "conc" } } },
      "conc",
    ],
    [
      "top-level saturationDetector names a declared detector",
      { plugins: detectors, saturationDetector: { pluginRef: "util" } },
      "util",
    ],
    [
      "a built-in detector type not declared in plugins",
      { saturationDetector: { pluginRef: "utilization-detector" } },
      "utilization-detector",
    ],
    ["no ref: every declared detector, the max of them", { plugins: detectors }, "max-saturation-detector"],
  ])("%s", (_case, body, name) => {
    expect(saturationDetectorOf(picker(body), FLOW_PLUGINS).name).toBe(name);
  });

  test("a ref to nothing is a ConfigError naming the field", () => {
    expect(() =>
      saturationDetectorOf(
        picker({ flowControl: { saturationDetector: { pluginRef: "nope" } } }),
        FLOW_PLUGINS,
      ),
    ).toThrow("EndpointPickerConfig flowControl.saturationDetector.pluginRef");
  });
});

describe("concurrency-detector: llm-d v0.10 parameters", () => {
  const load = { waiting: 0, running: 0, assumed: 0, kvUsage: 0, inflight: 12 };
  const endpoint = { name: "e" } as Parameters<SaturationDetector["score"]>[0];

  test("headroom widens the limit; requests mode is the default and accepted", () => {
    const d = FLOW_PLUGINS.detector({
      type: "concurrency-detector",
      parameters: { maxConcurrency: 10, headroom: 0.2, concurrencyMode: "requests" },
    });
    expect(d.score(endpoint, load, 0)).toBeCloseTo(1, 10);
  });

  test("tokens and hybrid modes are refused unless an inflight-load-producer is declared", () => {
    for (const mode of ["tokens", "hybrid"])
      expect(() =>
        FLOW_PLUGINS.detector({ type: "concurrency-detector", parameters: { concurrencyMode: mode } }, []),
      ).toThrow("declare an inflight-load-producer");
  });
});

describe("usageLimitPolicyPluginRef: a usage-limit policy becomes per-band ceilings", () => {
  const picker = (policy: Record<string, unknown>, bands: number[]) =>
    v.parse(EndpointPickerConfigSchema, {
      apiVersion: "llm-d.ai/v1alpha1",
      kind: "EndpointPickerConfig",
      plugins: [{ name: "limit", ...policy }],
      flowControl: {
        usageLimitPolicyPluginRef: "limit",
        priorityBands: bands.map((priority) => ({ priority })),
      },
    });
  const ceilings = (policy: Record<string, unknown>, bands: number[]) => {
    const fc = withUsageLimits(picker(policy, bands), FLOW_PLUGINS).flowControl!;
    return [...fc.priorityBands.map((b) => b.ceiling), fc.defaultPriorityBand.ceiling];
  };
  const holdback = (parameters: Record<string, unknown>) => ({
    type: "priority-holdback-policy",
    parameters,
  });

  test.each([
    [
      "rank: equal steps, highest first",
      holdback({ minCeiling: 0.4, maxCeiling: 0.9 }),
      [100, 0, -10],
      [0.9, 0.65, 0.4, 0.4],
    ],
    [
      "value: by numeric priority",
      holdback({ domain: "value", minCeiling: 0, maxCeiling: 1 }),
      [100, 0, -100],
      [1, 0.5, 0, 0],
    ],
    [
      "explicit: as given, 0 for the unlisted",
      holdback({ domain: "explicit", ceilings: { "100": 0.95, "10": 0.3 } }),
      [100, 10],
      [0.95, 0.3, 0],
    ],
    ["one band: maxCeiling", holdback({ minCeiling: 0.4, maxCeiling: 0.9 }), [], [0.9]],
    [
      "static: one ceiling",
      { type: "static-usage-limit-policy", parameters: { ceiling: 0.8 } },
      [5],
      [0.8, 0.8],
    ],
    [
      "soft reflective: static ceiling 1 (it gates per dispatch pass instead)",
      { type: "soft-reflective-ceiling-policy" },
      [5, 1],
      [1, 1, 1],
    ],
  ])("%s", (_case, policy, bands, want) => {
    const got = ceilings(policy, bands);
    expect(got.length).toBe(want.length);
    for (const [i, c] of got.entries()) expect(c).toBeCloseTo(want[i]!, 10);
  });

  test("holdback without minCeiling, or a ref to no policy, is a ConfigError", () => {
    expect(() => ceilings(holdback({ maxCeiling: 0.9 }), [1])).toThrow("minCeiling");
    expect(() => ceilings({ type: "fcfs-ordering-policy" }, [1])).toThrow(
      "flowControl.usageLimitPolicyPluginRef",
    );
  });
});

describe("a reload that changes the flow-control part is applied, not silently ignored", () => {
  test("rebuilds flow control for flowControl changes, not for scheduling-only changes; no restart warning", () => {
    const doc = (flow: string, scorer: string) => `
apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
featureGates: [flowControl]
plugins: [{ type: ${scorer} }]
flowControl: { defaultRequestTTL: ${flow} }
`;
    const holder = new ConfigHolder(testConfig({}, doc("30s", "queue-scorer")));
    const warnings: string[] = [];
    const logger = { ...silentLogger(), warn: (msg: string) => warnings.push(msg) };
    const { flow } = createAdmitter({
      config: holder,
      endpoints: new EndpointStore(),
      inflight: new InFlight(),
      loads: new LoadTracker(),
      clock: new FakeTime().clock,
      plugins: FLOW_PLUGINS,
      logger,
    });
    const infos: string[] = [];
    logger.info = (msg: string) => infos.push(msg);
    holder.swap(testConfig({}, doc("30s", "kv-cache-utilization-scorer")));
    expect(infos.filter((m) => m.includes("flow control rebuilt"))).toEqual([]);
    holder.swap(testConfig({}, doc("90s", "kv-cache-utilization-scorer")));
    expect(infos.filter((m) => m.includes("flow control rebuilt"))).toHaveLength(1);
    expect(warnings).toEqual([]);
    flow?.shutdown();
  });
});
