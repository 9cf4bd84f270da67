import * as v from "valibot";
import { ConfigError } from "../../config/errors.ts";
import { toConfigError } from "../../config/issues.ts";
import { EndpointPickerConfigSchema } from "../../config/resources.ts";
import {
  type Filter,
  hasLifecycleHooks,
  isFilter,
  isPicker,
  isProfileHandler,
  isScorer,
  type LifecycleHooks,
  type Picker,
  type PluginIdentity,
  type ProfileHandler,
  type SchedulerProfile,
  type SchedulingPlugin,
  type Scorer,
} from "./interfaces.ts";
import type { PluginDeps, PluginRegistry } from "./registry.ts";

/**
 * The parts of an EndpointPickerConfig scheduling reads, with the envelope's own field
 * schemas (so both apiVersions are accepted). Other sections (flowControl, ...) belong to
 * other subsystems and are not re-validated here, which also makes it safe to pass an
 * already-parsed document.
 */
const SchedulingSection = v.looseObject({
  apiVersion: EndpointPickerConfigSchema.entries.apiVersion,
  kind: EndpointPickerConfigSchema.entries.kind,
  plugins: EndpointPickerConfigSchema.entries.plugins,
  schedulingProfiles: EndpointPickerConfigSchema.entries.schedulingProfiles,
});

/** GIE's default when no EndpointPickerConfig is given. */
export const DEFAULT_ENDPOINT_PICKER_CONFIG: v.InferInput<typeof EndpointPickerConfigSchema> = {
  apiVersion: "inference.networking.x-k8s.io/v1alpha1",
  kind: "EndpointPickerConfig",
  plugins: [
    { type: "queue-scorer" },
    { type: "kv-cache-utilization-scorer" },
    { type: "prefix-cache-scorer" },
    // Three ranked endpoints (GIE's default is one): the proxy retries on the fallbacks.
    { type: "max-score-picker", parameters: { maxNumOfEndpoints: 3 } },
    { type: "single-profile-handler" },
  ],
  schedulingProfiles: [
    {
      name: "default",
      plugins: [
        { pluginRef: "queue-scorer", weight: 2 },
        { pluginRef: "kv-cache-utilization-scorer", weight: 2 },
        { pluginRef: "prefix-cache-scorer", weight: 3 },
        { pluginRef: "max-score-picker" },
      ],
    },
  ],
};

/** Used when a profile names no picker (as GIE does) and when no profile handler is configured. */
const DEFAULT_PICKER = "max-score-picker";
const DEFAULT_HANDLER = "single-profile-handler";
const DOC = "EndpointPickerConfig";

export interface LoadedConfig {
  readonly profiles: readonly SchedulerProfile[];
  readonly handler: ProfileHandler;
  /** Every configured plugin by name. */
  readonly plugins: ReadonlyMap<string, SchedulingPlugin>;
  /** Configured plugins with request-lifecycle hooks, in config order (each once). */
  readonly hooks: readonly (PluginIdentity & LifecycleHooks)[];
  /** One start-up line per plugin honoured differently here (see `SchedulingPlugin.note`). */
  readonly notes: readonly string[];
}

const Weight = v.pipe(v.number(), v.finite(), v.minValue(0, "a weight >= 0"));

/**
 * Builds the profiles of an EndpointPickerConfig (either apiVersion), or of GIE's
 * default when `config` is undefined. Rules:
 * - a plugin's `name` defaults to its `type` and must be unique;
 * - plugins of `foreignTypes` (flow-control policies, saturation detectors: the list
 *   is shared) are skipped; any other type the registry does not know is an error;
 * - at most one profile handler; none = `single-profile-handler`;
 * - no `schedulingProfiles` = one profile `default` with every filter, scorer and
 *   picker, weight 1 (GIE's behaviour);
 * - a `pluginRef` must name a defined plugin; `weight` (scorers only) defaults to 1;
 * - a profile has exactly one picker: none = `max-score-picker` (as GIE), two = error.
 * Every problem is a ConfigError whose path names the document, field and plugin.
 */
export function loadConfig(
  config: unknown,
  registry: PluginRegistry,
  deps: PluginDeps,
  foreignTypes: ReadonlySet<string> = registry.foreign(),
): LoadedConfig {
  const parsed = v.safeParse(SchedulingSection, config ?? DEFAULT_ENDPOINT_PICKER_CONFIG);
  if (!parsed.success) throw toConfigError(parsed.issues, DOC);
  const cfg = parsed.output;

  const plugins = new Map<string, SchedulingPlugin>();
  const foreign = new Map<string, string>();
  const seen = new Set<string>();
  const producers = new Map<string, SchedulingPlugin>();
  const built = new Map<number, SchedulingPlugin>();
  cfg.plugins.forEach((p, i) => {
    const name = p.name ?? p.type;
    const where = `${DOC} plugins[${i}] (${name})`;
    if (seen.has(name)) {
      throw new ConfigError({ path: `${where}.name`, expected: "a unique plugin name", received: name });
    }
    seen.add(name);
    if (foreignTypes.has(p.type) && !registry.has(p.type)) foreign.set(name, p.type);
    else if (registry.isProducer(p.type)) {
      const plugin = registry.create({ type: p.type, name, parameters: p.parameters }, deps, where);
      producers.set(name, plugin);
      built.set(i, plugin);
    }
  });
  // Producers first (above), then the plugins that may read them, in config order.
  const withProducers = { ...deps, producers };
  cfg.plugins.forEach((p, i) => {
    const name = p.name ?? p.type;
    if (foreign.has(name)) return;
    const where = `${DOC} plugins[${i}] (${name})`;
    const plugin =
      built.get(i) ?? registry.create({ type: p.type, name, parameters: p.parameters }, withProducers, where);
    plugins.set(name, plugin);
  });

  const handlers = [...plugins.values()].filter(isProfileHandler);
  if (handlers.length > 1) {
    throw new ConfigError({
      path: `${DOC} plugins`,
      expected: "at most one profile handler",
      received: handlers.map((h) => h.name).join(", "),
    });
  }
  const handler =
    handlers[0] ?? asHandler(registry.create({ type: DEFAULT_HANDLER, name: DEFAULT_HANDLER }, deps, DOC));

  const specs = cfg.schedulingProfiles.length
    ? cfg.schedulingProfiles
    : [
        {
          name: "default",
          plugins: [...plugins.values()]
            .filter((p) => isFilter(p) || isScorer(p) || isPicker(p))
            .map((p) => ({ pluginRef: p.name, weight: undefined })),
        },
      ];
  if (handler.maxProfiles !== undefined && specs.length > handler.maxProfiles) {
    throw new ConfigError({
      path: `${DOC} schedulingProfiles`,
      expected: `at most ${handler.maxProfiles} profile(s) for ${handler.type}`,
      received: `${specs.length}`,
    });
  }

  const names = new Set<string>();
  const profiles = specs.map((spec, i) => {
    const where = `${DOC} schedulingProfiles[${i}] (${spec.name})`;
    if (names.has(spec.name)) {
      throw new ConfigError({
        path: `${where}.name`,
        expected: "a unique profile name",
        received: spec.name,
      });
    }
    names.add(spec.name);
    return buildProfile(spec, where, { plugins, foreign, registry, deps });
  });
  const notes = [...plugins.values()].flatMap((p) => (p.note ? [`${p.name} (${p.type}): ${p.note}`] : []));
  return { profiles, handler, plugins, hooks: [...plugins.values()].filter(hasLifecycleHooks), notes };
}

function buildProfile(
  spec: { name: string; plugins: readonly { pluginRef: string; weight?: number | undefined }[] },
  where: string,
  env: {
    plugins: ReadonlyMap<string, SchedulingPlugin>;
    foreign: ReadonlyMap<string, string>;
    registry: PluginRegistry;
    deps: PluginDeps;
  },
): SchedulerProfile {
  const filters: Filter[] = [];
  const scorers: { scorer: Scorer; weight: number }[] = [];
  const pickers: Picker[] = [];
  spec.plugins.forEach((ref, j) => {
    const at = `${where}.plugins[${j}]`;
    const plugin = env.plugins.get(ref.pluginRef);
    const foreignType = env.foreign.get(ref.pluginRef);
    if (foreignType !== undefined) {
      throw new ConfigError({
        path: `${at}.pluginRef`,
        expected: "a filter, scorer or picker",
        received: `${ref.pluginRef} (${foreignType}, not a scheduling plugin)`,
      });
    }
    if (plugin === undefined) {
      const defined = [...env.plugins.keys()].join(", ") || "none";
      throw new ConfigError({
        path: `${at}.pluginRef`,
        expected: `the name of a plugin defined under plugins (defined: ${defined})`,
        received: JSON.stringify(ref.pluginRef),
      });
    }
    const weight = v.safeParse(Weight, ref.weight ?? 1);
    if (!weight.success) throw toConfigError(weight.issues, `${at}.weight`);
    if (!isFilter(plugin) && !isScorer(plugin) && !isPicker(plugin)) {
      throw new ConfigError({
        path: `${at}.pluginRef`,
        expected: "a filter, scorer or picker",
        received: `${plugin.name} (${plugin.type})`,
      });
    }
    if (isFilter(plugin)) filters.push(plugin);
    if (isScorer(plugin)) scorers.push({ scorer: plugin, weight: weight.output });
    if (isPicker(plugin)) pickers.push(plugin);
  });
  if (pickers.length > 1) {
    throw new ConfigError({
      path: `${where}.plugins`,
      expected: "exactly one picker",
      received: pickers.map((p) => p.name).join(", "),
    });
  }
  const picker =
    pickers[0] ??
    asPicker(env.registry.create({ type: DEFAULT_PICKER, name: DEFAULT_PICKER }, env.deps, where));
  return { name: spec.name, filters, scorers, picker };
}

function asHandler(p: SchedulingPlugin): ProfileHandler {
  if (!isProfileHandler(p)) throw new Error(`${p.type} is not a profile handler`);
  return p;
}

function asPicker(p: SchedulingPlugin): Picker {
  if (!isPicker(p)) throw new Error(`${p.type} is not a picker`);
  return p;
}
