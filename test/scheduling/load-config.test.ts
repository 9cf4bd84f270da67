import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { builtinRegistry as createDefaultRegistry } from "../../plugins/index.ts";
import { ConfigError } from "../../src/config/errors.ts";
import { EndpointPickerConfigSchema } from "../../src/config/resources.ts";
import { loadConfig } from "../../src/scheduling/framework/load-config.ts";
import { withParameters } from "../../src/scheduling/framework/registry.ts";
import { deps } from "./helpers.ts";

const V1 = "inference.networking.x-k8s.io/v1alpha1";
const LLMD = "llm-d.ai/v1alpha1";

const doc = (body: Record<string, unknown>, apiVersion = V1) => ({
  apiVersion,
  kind: "EndpointPickerConfig",
  ...body,
});
const load = (config: unknown) => loadConfig(config, createDefaultRegistry(), deps());

function configError(config: unknown): ConfigError {
  try {
    load(config);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

const summary = (config: unknown) =>
  load(config).profiles.map((p) => ({
    name: p.name,
    filters: p.filters.map((f) => f.name),
    scorers: p.scorers.map((s) => [s.scorer.name, s.weight]),
    picker: p.picker.name,
  }));

describe("EndpointPickerConfig: profiles", () => {
  test("absent: GIE's default profile", () => {
    expect(summary(undefined)).toEqual([
      {
        name: "default",
        filters: [],
        scorers: [
          ["queue-scorer", 2],
          ["kv-cache-utilization-scorer", 2],
          ["prefix-cache-scorer", 3],
        ],
        picker: "max-score-picker",
      },
    ]);
    expect(load(undefined).handler.type).toBe("single-profile-handler");
  });

  test.each([{ apiVersion: V1 }, { apiVersion: LLMD }])(
    "accepts apiVersion $apiVersion",
    ({ apiVersion }) => {
      const config = doc(
        {
          plugins: [{ type: "queue-scorer" }, { type: "random-picker" }],
          schedulingProfiles: [
            { name: "p", plugins: [{ pluginRef: "queue-scorer" }, { pluginRef: "random-picker" }] },
          ],
        },
        apiVersion,
      );
      expect(summary(config)).toEqual([
        { name: "p", filters: [], scorers: [["queue-scorer", 1]], picker: "random-picker" },
      ]);
    },
  );

  test("names default to the type; a name lets one type appear twice with other parameters", () => {
    const config = doc({
      plugins: [
        { type: "utilization-filter" },
        { name: "strict", type: "utilization-filter", parameters: { queueDepthThreshold: 1 } },
        { type: "kv-cache-utilization-scorer" },
      ],
      schedulingProfiles: [
        {
          name: "p",
          plugins: [
            { pluginRef: "utilization-filter" },
            { pluginRef: "strict" },
            { pluginRef: "kv-cache-utilization-scorer", weight: 4 },
          ],
        },
      ],
    });
    expect(summary(config)).toEqual([
      {
        name: "p",
        filters: ["utilization-filter", "strict"],
        scorers: [["kv-cache-utilization-scorer", 4]],
        picker: "max-score-picker",
      },
    ]);
  });

  test("no schedulingProfiles: one default profile with every plugin, weight 1", () => {
    const config = doc({ plugins: [{ type: "queue-scorer" }, { type: "weighted-random-picker" }] });
    expect(summary(config)).toEqual([
      { name: "default", filters: [], scorers: [["queue-scorer", 1]], picker: "weighted-random-picker" },
    ]);
  });

  test("a profile without a picker gets max-score-picker", () => {
    const config = doc({
      plugins: [{ type: "queue-scorer" }],
      schedulingProfiles: [{ name: "p", plugins: [{ pluginRef: "queue-scorer" }] }],
    });
    expect(summary(config)[0]!.picker).toBe("max-score-picker");
  });

  test("prefix-cache-scorer's lifecycle hooks are wired in", () => {
    expect(load(undefined).hooks.map((p) => p.name)).toEqual(["prefix-cache-scorer"]);
  });
});

describe("EndpointPickerConfig: errors name the plugin and field", () => {
  test.each([
    {
      case: "unknown plugin type",
      config: doc({ plugins: [{ type: "queue-scorer" }, { name: "mine", type: "no-such-scorer" }] }),
      path: "EndpointPickerConfig plugins[1] (mine).type",
      expected: /^unknown plugin type \(known: .*queue-scorer/,
    },
    {
      case: "a typo names the nearest type",
      config: doc({ plugins: [{ type: "quue-scorer" }] }),
      path: "EndpointPickerConfig plugins[0] (quue-scorer).type",
      expected: /^unknown plugin type; did you mean "queue-scorer"\?/,
    },
    {
      case: "an upstream type this gateway lacks is not a typo",
      config: doc({ plugins: [{ type: "header-profile-handler" }] }),
      path: "EndpointPickerConfig plugins[0] (header-profile-handler).type",
      expected: /^not supported by this gateway \(upstream since llm-d-router v0\.10\)/,
    },
    {
      case: "an upstream type that needs P/D says so",
      config: doc({ plugins: [{ type: "disagg-profile-handler" }] }),
      path: "EndpointPickerConfig plugins[0] (disagg-profile-handler).type",
      expected: /^needs P\/D disaggregation/,
    },
    {
      case: "bad parameter",
      config: doc({
        plugins: [
          { type: "queue-scorer" },
          { type: "max-score-picker" },
          { type: "prefix-cache-scorer", parameters: { blockSize: -3 } },
        ],
      }),
      path: "EndpointPickerConfig plugins[2] (prefix-cache-scorer).parameters.blockSize",
      expected: />=1|1/,
    },
    {
      case: "misspelled parameter",
      config: doc({ plugins: [{ type: "max-score-picker", parameters: { maxNumOfEndpoint: 2 } }] }),
      path: "EndpointPickerConfig plugins[0] (max-score-picker).parameters.maxNumOfEndpoint",
      expected: /known parameter .*maxNumOfEndpoints/,
    },
    {
      case: "parameter of the wrong type",
      config: doc({ plugins: [{ type: "label-selector-filter", parameters: { matchLabels: { a: 1 } } }] }),
      path: "EndpointPickerConfig plugins[0] (label-selector-filter).parameters.matchLabels.a",
      expected: /.+/,
    },
    {
      case: "missing required parameter",
      config: doc({ plugins: [{ type: "label-selector-filter" }] }),
      path: "EndpointPickerConfig plugins[0] (label-selector-filter).parameters",
      expected: /matchLabels or matchExpressions/,
    },
    {
      case: "a misspelt field inside matchExpressions is named there, not as a top-level parameter",
      config: doc({
        plugins: [
          {
            type: "label-selector-filter",
            parameters: { matchExpressions: [{ key: "role", operator: "In", value: ["decode"] }] },
          },
        ],
      }),
      path: "EndpointPickerConfig plugins[0] (label-selector-filter).parameters.matchExpressions[0].value",
      expected: /unknown field/,
    },
    {
      case: "matchExpressions: In without values",
      config: doc({
        plugins: [
          {
            type: "label-selector-filter",
            parameters: { matchExpressions: [{ key: "role", operator: "In", values: [] }] },
          },
        ],
      }),
      path: "EndpointPickerConfig plugins[0] (label-selector-filter).parameters.matchExpressions[0].values",
      expected: /at least one value/,
    },
    {
      case: "pluginRef to an undefined plugin",
      config: doc({
        plugins: [{ type: "queue-scorer" }],
        schedulingProfiles: [
          { name: "p", plugins: [{ pluginRef: "queue-scorer" }, { pluginRef: "prefix" }] },
        ],
      }),
      path: "EndpointPickerConfig schedulingProfiles[0] (p).plugins[1].pluginRef",
      expected: /defined: queue-scorer/,
    },
    {
      case: "two pickers in a profile",
      config: doc({
        plugins: [{ type: "random-picker" }, { type: "max-score-picker" }],
        schedulingProfiles: [
          { name: "p", plugins: [{ pluginRef: "random-picker" }, { pluginRef: "max-score-picker" }] },
        ],
      }),
      path: "EndpointPickerConfig schedulingProfiles[0] (p).plugins",
      expected: /exactly one picker/,
    },
    {
      case: "duplicate plugin name",
      config: doc({ plugins: [{ type: "queue-scorer" }, { type: "queue-scorer" }] }),
      path: "EndpointPickerConfig plugins[1] (queue-scorer).name",
      expected: /unique/,
    },
    {
      case: "negative weight",
      config: doc({
        plugins: [{ type: "queue-scorer" }],
        schedulingProfiles: [{ name: "p", plugins: [{ pluginRef: "queue-scorer", weight: -1 }] }],
      }),
      path: "EndpointPickerConfig schedulingProfiles[0] (p).plugins[0].weight",
      expected: />= 0/,
    },
    {
      case: "a profile handler used as a profile plugin",
      config: doc({
        plugins: [{ type: "single-profile-handler" }],
        schedulingProfiles: [{ name: "p", plugins: [{ pluginRef: "single-profile-handler" }] }],
      }),
      path: "EndpointPickerConfig schedulingProfiles[0] (p).plugins[0].pluginRef",
      expected: /filter, scorer or picker/,
    },
    {
      case: "two profiles under single-profile-handler",
      config: doc({
        plugins: [{ type: "queue-scorer" }],
        schedulingProfiles: [
          { name: "a", plugins: [{ pluginRef: "queue-scorer" }] },
          { name: "b", plugins: [{ pluginRef: "queue-scorer" }] },
        ],
      }),
      path: "EndpointPickerConfig schedulingProfiles",
      expected: /at most 1/,
    },
    {
      case: "unknown apiVersion",
      config: doc({}, "inference.networking.x-k8s.io/v9"),
      path: "EndpointPickerConfig apiVersion",
      expected: /.+/,
    },
  ])("$case", ({ config, path, expected }) => {
    const err = configError(config);
    expect(err.path).toBe(path);
    expect(err.expected).toMatch(expected);
  });
});

describe("EndpointPickerConfig: a plugins list shared with other subsystems", () => {
  const FLOW = new Set(["fcfs-ordering-policy", "utilization-detector"]);
  const shared = doc({
    plugins: [
      { type: "queue-scorer" },
      { name: "fifo", type: "fcfs-ordering-policy" },
      { type: "utilization-detector", parameters: { queueDepthThreshold: 9 } },
    ],
    flowControl: { defaultRequestTTL: "30s" },
  });

  test("foreign plugin types are skipped, and left out of the implicit default profile", () => {
    const loaded = loadConfig(shared, createDefaultRegistry(), deps(), FLOW);
    expect([...loaded.plugins.keys()]).toEqual(["queue-scorer"]);
    expect(loaded.profiles[0]!.scorers.map((s) => s.scorer.name)).toEqual(["queue-scorer"]);
  });

  test("without being declared foreign they are unknown types", () => {
    expect(() => loadConfig(shared, createDefaultRegistry(), deps(), new Set())).toThrow(
      "plugins[1] (fifo).type",
    );
  });

  test("the built-in registry knows flow control's types as foreign: skipped by default", () => {
    expect([...loadConfig(shared, createDefaultRegistry(), deps()).plugins.keys()]).toEqual(["queue-scorer"]);
  });

  test("a profile may not reference a foreign plugin", () => {
    const config = doc({
      plugins: [{ name: "fifo", type: "fcfs-ordering-policy" }],
      schedulingProfiles: [{ name: "p", plugins: [{ pluginRef: "fifo" }] }],
    });
    expect(() => loadConfig(config, createDefaultRegistry(), deps(), FLOW)).toThrow(
      "schedulingProfiles[0] (p).plugins[0].pluginRef",
    );
  });

  test("an already-parsed document (flowControl durations turned into numbers) loads", () => {
    const parsed = v.parse(EndpointPickerConfigSchema, shared);
    expect(parsed.flowControl?.defaultRequestTTL).toBe(30_000);
    expect(loadConfig(parsed, createDefaultRegistry(), deps(), FLOW).profiles.length).toBe(1);
  });
});

describe("registry", () => {
  test("custom plugins register on an instance and validate their own parameters", () => {
    const registry = createDefaultRegistry().register(
      "constant-scorer",
      withParameters(v.strictObject({ value: v.pipe(v.number(), v.minValue(0)) }), (name, p) => ({
        type: "constant-scorer",
        name,
        score: (_ctx, eps) => eps.map(() => p.value),
      })),
    );
    const ok = doc({ plugins: [{ type: "constant-scorer", parameters: { value: 0.5 } }] });
    expect(loadConfig(ok, registry, deps()).profiles[0]!.scorers[0]!.scorer.type).toBe("constant-scorer");
    const bad = doc({ plugins: [{ name: "c", type: "constant-scorer", parameters: { value: -1 } }] });
    expect(() => loadConfig(bad, registry, deps())).toThrow("plugins[0] (c).parameters.value");
    // a fresh default registry does not see it: no module-global state
    expect(createDefaultRegistry().has("constant-scorer")).toBe(false);
  });

  test("registering a type twice is a programming error", () => {
    expect(() => createDefaultRegistry().register("queue-scorer", () => ({ type: "x", name: "x" }))).toThrow(
      "already registered",
    );
  });
});
