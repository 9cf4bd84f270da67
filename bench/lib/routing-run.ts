/**
 * One routing-benchmark run: fresh prefill pods (bench/lib/prefill-pod.ts), fresh
 * gateways (one or several independent replicas, requests spread over them in turn),
 * Poisson arrivals for `seconds`, then the figures over the requests sent after the
 * warm-up: TTFT quantiles, the pods' prefix-cache hit rate (tokens) and requests per pod.
 */
import { lagMonitor, startGateways } from "./gateway.ts";
import { censoredQuantile, runOpenLoop } from "./load.ts";
import { type PrefillPodOptions, startPrefillPod } from "./prefill-pod.ts";
import type { Body } from "./routing-workloads.ts";

export interface RoutingRun {
  pods: number;
  pod: PrefillPodOptions;
  pickerYaml: string | undefined;
  replicas?: number;
  body: Body;
  rate: number;
  seconds: number;
  warmupFraction: number;
  drainSeconds: number;
  seed: number;
}

export interface RoutingStats {
  measured: number;
  failed: number;
  ttftP50: number;
  ttftP90: number;
  /** Prefix-cache hits / queries over the pods, tokens, after the warm-up. */
  hitRate: number;
  /** Requests each pod completed after the warm-up, pod-0 first. */
  perPod: number[];
  /** Event-loop lag of the process during the run, p99 (ms): the noise floor. */
  lagP99: number;
}

export async function routingRun(r: RoutingRun): Promise<RoutingStats> {
  const pods = await Promise.all(Array.from({ length: r.pods }, () => startPrefillPod(r.pod)));
  const gw = await startGateways({
    addresses: pods.map((p) => p.address),
    model: r.pod.model,
    pickerYaml: r.pickerYaml,
    replicas: r.replicas ?? 1,
    seed: r.seed,
  });
  try {
    const warmupMs = r.seconds * r.warmupFraction * 1000;
    const lag = lagMonitor();
    const begin = performance.now();
    const reset = setTimeout(() => {
      for (const p of pods) p.resetCounters();
    }, warmupMs);
    const samples = await runOpenLoop(
      gw.urls,
      [{ tag: "r", rate: r.rate, body: r.body }],
      r.seconds,
      r.seed,
      {
        drainSeconds: r.drainSeconds,
      },
    );
    clearTimeout(reset);
    const lagP99 = lag.stop().p99;
    const measured = samples.filter((s) => s.sentAt >= begin + warmupMs);
    const ttft = measured.map((s) => (s.status === 200 && Number.isFinite(s.ttftMs) ? s.ttftMs : Infinity));
    const counters = pods.map((p) => p.counters());
    const hits = counters.reduce((a, c) => a + c.hitTokens, 0);
    const queries = counters.reduce((a, c) => a + c.queryTokens, 0);
    return {
      measured: measured.length,
      failed: measured.filter((s) => s.status !== 200).length,
      ttftP50: censoredQuantile(ttft, 0.5),
      ttftP90: censoredQuantile(ttft, 0.9),
      hitRate: queries > 0 ? hits / queries : Number.NaN,
      perPod: counters.map((c) => c.requests),
      lagP99,
    };
  } finally {
    await gw.close();
    await Promise.all(pods.map((p) => p.close()));
  }
}
