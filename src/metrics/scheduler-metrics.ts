import { Gauge, type Registry } from "prom-client";
import type { Endpoint } from "../endpoints/types.ts";
import type { SchedulingResult } from "../scheduling/framework/interfaces.ts";
import type { ExtensionPoint, PluginObserver } from "../scheduling/framework/runner.ts";
import type { PoolScheduler } from "../scheduling/pool-scheduler.ts";
import { DEFAULT_BLOCK_CHARS } from "../scheduling/prefix/hashes.ts";
import type { SchedulingRequest } from "../scheduling/types.ts";
import * as B from "./buckets.ts";
import { alpha } from "./gateway-metrics.ts";
import { MAX_LABEL_LENGTH, OVERFLOW_LABEL } from "./label-cap.ts";
import {
  CounterFamily,
  HistogramFamily,
  type HistogramSeries,
  type ScalarSeries,
  TwinFamily,
} from "./series-family.ts";

/**
 * Scheduler metrics under GIE's `inference_extension_*` names and llm-d's `llm_d_epp_*`:
 * decision and per-plugin durations, scheduling attempts, and the prefix index's size,
 * hit ratio and hit length. Plugin children are resolved once per (point, type, name).
 */
export function schedulerMetrics(registry: Registry) {
  /** The prefix indexer's families: one set for every pool's index. */
  function indexerFamilies() {
    const all = new Set<PoolScheduler>();
    new Gauge({
      name: "inference_extension_prefix_indexer_size",
      help: alpha("Size of the prefix indexer."),
      registers: [registry],
      collect() {
        let size = 0;
        for (const s of all) size += s.prefixIndex.size;
        this.set(size);
      },
    });
    const ratio = hist(
      "inference_extension_prefix_indexer_hit_ratio",
      "Ratio of prefix length matched to total prefix length in the cache lookup.",
      [],
      B.HIT_RATIO,
    );
    const bytes = hist(
      "inference_extension_prefix_indexer_hit_bytes",
      "Length of the prefix match in number of bytes in the cache lookup.",
      [],
      B.HIT_BYTES,
    );
    const ratioSeries = ratio.labels({});
    const bytesSeries = bytes.labels({});
    return {
      all,
      onHit: (matched: number, total: number) => {
        ratioSeries.observe(matched / total);
        bytesSeries.observe(matched * DEFAULT_BLOCK_CHARS);
      },
    };
  }
  const hist = (name: string, help: string, labelNames: readonly string[], buckets: number[]) =>
    new HistogramFamily(name, alpha(help), labelNames, buckets, registry);
  const pluginLabels = ["extension_point", "plugin_type", "plugin_name"] as const;
  const pluginHelp =
    "Plugin processing latency distribution in seconds for each extension point, plugin type and plugin name.";
  // GIE's and llm-d's names for the same observations: recorded once, shown under both
  // (TwinFamily; issue 19, seventh pass: two observations a plugin call and decision were one).
  const plugin = hist("inference_extension_plugin_duration_seconds", pluginHelp, pluginLabels, B.FAST_PATH);
  new TwinFamily("llm_d_epp_plugin_duration_seconds", alpha(pluginHelp), plugin, registry);
  const decisionHelp = "End-to-end scheduling latency distribution in seconds.";
  const decision = hist("inference_extension_scheduler_e2e_duration_seconds", decisionHelp, [], B.FAST_PATH);
  new TwinFamily("llm_d_epp_scheduler_e2e_duration_seconds", alpha(decisionHelp), decision, registry);
  // GIE names the picked pod `pod_name`; llm-d renamed it `endpoint_name`.
  const attemptHelp = alpha("Total number of scheduling attempts.");
  // Series families, not prom-client Counters: prom-client hashes the label object on every
  // inc (5-7 µs a request for these two, issue 19's profile).
  const gieAttempts = new CounterFamily(
    "inference_extension_scheduler_attempts_total",
    attemptHelp,
    ["status", "target_model_name", "namespace", "port", "pod_name"],
    registry,
  );
  new TwinFamily("llm_d_epp_scheduler_attempts_total", attemptHelp, gieAttempts, registry, [
    "status",
    "target_model_name",
    "namespace",
    "port",
    "endpoint_name",
  ]);
  // Extension point -> plugin type -> plugin name -> series: no key string per call.
  const children = new Map<string, Map<string, Map<string, HistogramSeries>>>();
  const decisionSeries = decision.labels({});
  const indexers = indexerFamilies();
  /** The attempt series (GIE's, which llm-d's name shows too) per picked endpoint and target model, resolved once. */
  const attemptsByEndpoint = new WeakMap<Endpoint, Map<string, ScalarSeries>>();
  /** The same for attempts that picked nothing, per target model. */
  const failedAttempts = new Map<string, ScalarSeries>();
  const attemptSeries = (picked: Endpoint | undefined, targetModel: string): ScalarSeries => {
    let byModel = picked === undefined ? failedAttempts : attemptsByEndpoint.get(picked);
    if (byModel === undefined) {
      byModel = new Map();
      attemptsByEndpoint.set(picked!, byModel);
    }
    let series = byModel.get(targetModel);
    if (series === undefined) {
      const { pod, port } = picked ? podOf(picked) : { pod: "", port: "" };
      const target = targetModel.length > MAX_LABEL_LENGTH ? OVERFLOW_LABEL : targetModel;
      const common = {
        status: picked ? "success" : "failure",
        target_model_name: target,
        namespace: "",
        port,
      };
      series = gieAttempts.labels({ ...common, pod_name: pod });
      // At most 1,024 models an endpoint are kept here; past that, the families are asked each time.
      if (byModel.size < 1024) byModel.set(targetModel, series);
    }
    return series;
  };
  const pluginSeries = (point: ExtensionPoint, type: string, name: string): HistogramSeries => {
    let byType = children.get(point);
    if (!byType) {
      byType = new Map();
      children.set(point, byType);
    }
    let byName = byType.get(type);
    if (!byName) {
      byName = new Map();
      byType.set(type, byName);
    }
    let c = byName.get(name);
    if (!c) {
      const labels = { extension_point: point, plugin_type: type, plugin_name: name };
      c = plugin.labels(labels);
      byName.set(name, c);
    }
    return c;
  };
  /** One plugin call's duration, into GIE's histogram, which llm-d's name shows too (the scheduler resolves `recorder` once per plugin). */
  const observe: PluginObserver = Object.assign(
    (point: ExtensionPoint, type: string, name: string, seconds: number) => {
      pluginSeries(point, type, name).observe(seconds);
    },
    {
      recorder(point: ExtensionPoint, type: string, name: string) {
        const series = pluginSeries(point, type, name);
        return (seconds: number) => series.observe(seconds);
      },
    },
  );
  return {
    observe,
    observeDecision(seconds: number, request?: SchedulingRequest, result?: SchedulingResult) {
      decisionSeries.observe(seconds);
      if (request === undefined) return;
      const picked = result?.kind === "picked" ? result.endpoints[0] : undefined;
      attemptSeries(picked, request.targetModel).inc();
    },
    /**
     * Gauges read from the schedulers when /metrics is scraped (summed over pools: GIE's
     * indexer metrics carry no pool label); histograms fed by each pool's prefix index.
     * Returns the detach for a pool that goes away.
     */
    attach(scheduler: PoolScheduler): () => void {
      const shared = indexers;
      shared.all.add(scheduler);
      // Config reloads keep the index (pool-scheduler passes it on), so one hook lasts.
      scheduler.prefixIndex.onHit = shared.onHit;
      return () => shared.all.delete(scheduler);
    },
  };
}

/** The picked endpoint's pod name and port, as upstream labels them. */
function podOf(e: Endpoint): { pod: string; port: string } {
  const colon = e.address.lastIndexOf(":");
  const port = colon < 0 ? "" : e.address.slice(colon + 1);
  const pod = e.name.endsWith(`:${port}`) ? e.name.slice(0, -port.length - 1) : e.name;
  return { pod, port };
}
