/**
 * One measured run of the scheduling benchmarks: fresh simulated pods (cold caches) and
 * fresh gateway(s), Poisson load for a window, then the numbers.
 *
 * Time: the pods run with `timeScale` (e.g. 0.5 = twice as fast as the latency model
 * says). Rates and latencies are reported in SIMULATED time (wall-clock / timeScale), so
 * they read in the latency model's units whatever timeScale is used.
 *
 * Measured interval: the arrival window minus its first `warmupFraction` (caches fill,
 * queues form). Statistics cover the requests SENT in that interval, followed to their end.
 *
 * "Sustained" (the definition the results use), all of:
 *  (a) no growing backlog: the number of requests in the system (sent and not finished,
 *      counted by the client), averaged over the window's last quarter, exceeds its
 *      average over the second quarter by at most max(5 % of the interval's arrivals, one
 *      per pod). Over those 1.5 quarters this is "achieved >= ~95 % of offered", measured
 *      on time averages, which Poisson noise moves far less than point counts;
 *  (b) achieved >= 90 % of offered: completions during the interval per second over
 *      arrivals during the interval per second (a gross check; point counts are noisy);
 *  (c) nothing failed or was cut off at the drain limit.
 */
import { lagMonitor, startGateways } from "./gateway.ts";
import { censoredQuantile, runOpenLoop, type Sample } from "./load.ts";
import { hitRate, type PodCounters, type PodSpec, startPodFleet } from "./pods.ts";
import type { BodyFn } from "./workload.ts";

export interface RunSpec {
  pods: PodSpec[];
  model: string;
  /** EndpointPickerConfig YAML; undefined = the gateway's default profile. */
  pickerYaml: string | undefined;
  /** Gateway replicas; requests go to them in turn. Default 1. */
  replicas?: number;
  gatewaySeed?: number;
  body: BodyFn;
  /** Offered load, requests per simulated second. */
  rate: number;
  timeScale: number;
  /** Arrival window, wall-clock seconds. */
  seconds: number;
  warmupFraction: number;
  /** Wall-clock seconds to wait for requests still running after the window. */
  drainSeconds: number;
  loadSeed: number;
}

export interface RunStats {
  /** Requests per simulated second sent / completed during the measured interval. */
  offered: number;
  achieved: number;
  sent: number;
  /** Requests of the interval that failed (status != 200) or were cut off at the drain limit. */
  failed: number;
  /** Simulated ms. NaN when nothing to measure; +Infinity when the quantile falls on cut-off requests. */
  ttftP50: number;
  ttftP90: number;
  e2eP90: number;
  /** Output tokens per simulated second over the interval (pods' vllm:generation_tokens_total). */
  tokensPerSec: number;
  /** Pods' prefix-cache hit rate (hit tokens / queried tokens) over the interval and drain. */
  hitRate: number;
  /** Mean total waiting requests at the pods over the window's 2nd and 4th quarters. */
  waitingQ2: number;
  waitingQ4: number;
  /** Time-averaged requests in the system (client side) over the window's 2nd and 4th quarters. */
  backlogQ2: number;
  backlogQ4: number;
  sustained: boolean;
  /** Why not sustained, when it is not. */
  reason: string;
  /** Event-loop lag of the gateway process during the run, wall ms (noise gauge). */
  lagP99: number;
  /** Requests per pod (primary that served), for the interval. */
  spread: number[];
  /** Grouped workloads: mean number of distinct pods that served a group in the interval. */
  podsPerGroup: number;
  samples: Sample[];
}

/** The definition of "sustained", for the results files. */
export const SUSTAINED =
  "Sustained = (a) no growing backlog: the requests in the system (sent, not finished; counted by the " +
  "client), time-averaged over the window's last quarter, exceed their average over its second quarter " +
  "by at most max(5 % of the interval's arrivals, 1 per pod) — i.e. achieved ≥ ~95 % of offered over " +
  "that stretch, measured on time averages, which Poisson noise moves far less than point counts; " +
  "(b) achieved ≥ 90 % of offered (completions vs arrivals per second during the measured interval, a " +
  "gross check); (c) no request failed or was cut off at the drain limit.";

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const mean = (xs: number[]) => (xs.length ? sum(xs) / xs.length : Number.NaN);

export async function measureRun(spec: RunSpec): Promise<RunStats> {
  const fleet = await startPodFleet(spec.pods);
  const gw = await startGateways({
    addresses: fleet.addresses,
    model: spec.model,
    pickerYaml: spec.pickerYaml,
    replicas: spec.replicas ?? 1,
    seed: spec.gatewaySeed ?? 1,
  });
  try {
    const t0 = performance.now();
    const windowMs = spec.seconds * 1000;
    const m0 = t0 + spec.warmupFraction * windowMs;
    const tEnd = t0 + windowMs;
    const waiting: { t: number; n: number }[] = [];
    let atStart: Promise<PodCounters[]> | undefined;
    let atEnd: Promise<PodCounters[]> | undefined;
    const startTimer = setTimeout(() => {
      atStart = fleet.counters();
    }, m0 - t0);
    const sampler = setInterval(() => {
      const t = performance.now();
      fleet.counters().then(
        (cs) => waiting.push({ t, n: sum(cs.map((c) => c.waiting)) }),
        () => {},
      );
    }, 250);
    const lag = lagMonitor();
    const samples = await runOpenLoop(
      gw.urls,
      [{ tag: "load", rate: spec.rate / spec.timeScale, body: spec.body }],
      spec.seconds,
      spec.loadSeed,
      {
        drainSeconds: spec.drainSeconds,
        onWindowEnd: () => {
          clearInterval(sampler);
          atEnd = fleet.counters();
        },
      },
    );
    clearTimeout(startTimer);
    const lagStats = lag.stop();
    const after = await fleet.counters();
    const before = (await atStart) ?? after.map(() => zero());
    const end = (await atEnd) ?? after;

    const intervalS = (tEnd - m0) / 1000;
    const inInterval = samples.filter((s) => s.sentAt >= m0 && s.sentAt <= tEnd);
    const ok = inInterval.filter((s) => s.status === 200);
    const completedInInterval = samples.filter(
      (s) => s.status === 200 && s.doneAt >= m0 && s.doneAt <= tEnd,
    ).length;
    const toSim = (ms: number) => ms / spec.timeScale;
    // Failed or cut off: counted as never having a first token (censored at +Infinity).
    const ttfts = inInterval.map((s) => (s.status === 200 ? toSim(s.ttftMs) : Number.POSITIVE_INFINITY));
    const e2es = inInterval.map((s) => (s.status === 200 ? toSim(s.e2eMs) : Number.POSITIVE_INFINITY));
    const offered = (inInterval.length / intervalS) * spec.timeScale;
    const achieved = (completedInInterval / intervalS) * spec.timeScale;
    const q = (from: number, to: number) =>
      mean(waiting.filter((w) => w.t >= t0 + from * windowMs && w.t < t0 + to * windowMs).map((w) => w.n));
    const waitingQ2 = q(0.25, 0.5);
    const waitingQ4 = q(0.75, 1);
    const failed = inInterval.length - ok.length;
    const backlog = (from: number, to: number) => {
      const points = 200;
      let total = 0;
      for (let k = 0; k < points; k++) {
        const t = t0 + (from + ((to - from) * (k + 0.5)) / points) * windowMs;
        for (const s of samples) if (s.sentAt <= t && s.doneAt > t) total++;
      }
      return total / points;
    };
    const backlogQ2 = backlog(0.25, 0.5);
    const backlogQ4 = backlog(0.75, 1);
    const reasons: string[] = [];
    if (backlogQ4 > backlogQ2 + Math.max(0.05 * inInterval.length, spec.pods.length)) {
      reasons.push(`backlog ${backlogQ2.toFixed(0)}→${backlogQ4.toFixed(0)}`);
    }
    if (!(achieved >= 0.9 * offered)) reasons.push(`achieved ${((100 * achieved) / offered).toFixed(0)} %`);
    if (failed > 0) reasons.push(`${failed} failed/cut off`);
    const gen = sum(end.map((c) => c.generationTokens)) - sum(before.map((c) => c.generationTokens));
    const byPod = new Map<string, number>();
    for (const s of ok) if (s.endpoint) byPod.set(s.endpoint, (byPod.get(s.endpoint) ?? 0) + 1);
    const groups = spec.body.groups;
    const servedBy = new Map<number, Set<string>>();
    if (groups) {
      // One stream: samples are in send order, the k-th built by the k-th body call.
      samples.forEach((s, k) => {
        const g = groups[k];
        if (g === undefined || !s.endpoint || s.sentAt < m0 || s.sentAt > tEnd) return;
        const set = servedBy.get(g) ?? new Set<string>();
        servedBy.set(g, set);
        set.add(s.endpoint);
      });
    }
    return {
      offered,
      achieved,
      sent: inInterval.length,
      failed,
      ttftP50: censoredQuantile(ttfts, 0.5),
      ttftP90: censoredQuantile(ttfts, 0.9),
      e2eP90: censoredQuantile(e2es, 0.9),
      tokensPerSec: (gen / intervalS) * spec.timeScale,
      hitRate: hitRate(before, after),
      waitingQ2,
      waitingQ4,
      backlogQ2,
      backlogQ4,
      sustained: reasons.length === 0,
      reason: reasons.join(", "),
      lagP99: lagStats.p99,
      spread: fleet.addresses.map((a) => byPod.get(a) ?? 0),
      podsPerGroup: servedBy.size ? mean([...servedBy.values()].map((x) => x.size)) : Number.NaN,
      samples,
    };
  } finally {
    await gw.close();
    await fleet.close();
  }
}

function zero(): PodCounters {
  return { prefixQueries: 0, prefixHits: 0, waiting: 0, running: 0, kvUsage: 0, generationTokens: 0 };
}

/** Simulated ms, rounded; "∞" past the drain limit, "-" when there is nothing. */
export function ms(x: number): string {
  if (x === Number.POSITIVE_INFINITY) return "∞";
  return Number.isFinite(x) ? x.toFixed(0) : "-";
}

export const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)} %` : "-");
