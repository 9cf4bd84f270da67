import type { Registry } from "prom-client";

/**
 * Counter, gauge and histogram families for the request hot path. prom-client hashes the
 * label object on every observation, even through `labels()` children; these resolve a
 * label set once (`labels()` returns the series itself) and then observe with no string
 * work, which is what lets every request feed GIE's and llm-d's names at the cost the
 * gateway had with one. They register in a prom-client Registry and render exactly as
 * prom-client's own (same value lines, `le` first), so /metrics does not change.
 */

type Labels = Record<string, string>;
type Value = { labels: Labels; value: number; metricName?: string; sharedLabels?: Labels };

abstract class Family<S extends { touched: boolean; labels: Labels }> {
  /**
   * Label values, one Map level per label name, the series at the leaf: a lookup hashes
   * the caller's own value strings (their hash is cached), where a joined key string was
   * built and hashed anew on every call.
   */
  private readonly tree = new Map<string, unknown>();
  /** Every series, in creation order (the order /metrics shows them). */
  private readonly all: S[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  abstract readonly type: string;
  protected abstract create(labels: Labels): S;
  /** One series' value lines, under `name` (this family's, or a twin's). */
  protected abstract render(series: S, out: Value[], name: string): void;

  /** The series for one label set, created on first use (shown once it is first touched). */
  labels(labels: Labels): S {
    const names = this.labelNames;
    let level = this.tree;
    const last = names.length - 1;
    for (let i = 0; i < last; i++) {
      const value = labels[names[i]!] ?? "";
      let next = level.get(value) as Map<string, unknown> | undefined;
      if (!next) {
        next = new Map();
        level.set(value, next);
      }
      level = next;
    }
    const leaf = last < 0 ? "" : (labels[names[last]!] ?? "");
    let s = level.get(leaf) as S | undefined;
    if (!s) {
      const own: Labels = {};
      for (const n of names) own[n] = labels[n] ?? "";
      s = this.create(own);
      level.set(leaf, s);
      this.all.push(s);
    }
    return s;
  }

  /** prom-client's Metric contract: what Registry#metrics() renders. */
  async get() {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values: this.values(this.name),
      aggregator: "sum",
    };
  }

  /**
   * The value lines of every shown series under `name`, each series' labels through `relabel`
   * (a twin's own label names). A family without labels shows its one series from the start,
   * as prom-client's do.
   */
  values(name: string, relabel?: (labels: Labels) => Labels): Value[] {
    const values: Value[] = [];
    const all = this.labelNames.length === 0;
    for (const s of this.all) {
      if (!s.touched && !all) continue;
      if (relabel === undefined) this.render(s, values, name);
      else this.render({ ...s, labels: relabel(s.labels) }, values, name);
    }
    return values;
  }

  reset(): void {
    this.tree.clear();
    this.all.length = 0;
  }
}

/** One counter or gauge series. */
export class ScalarSeries {
  touched = false;
  value = 0;
  constructor(readonly labels: Labels) {}
  inc(by = 1): void {
    this.touched = true;
    this.value += by;
  }
  dec(by = 1): void {
    this.touched = true;
    this.value -= by;
  }
}

export class CounterFamily extends Family<ScalarSeries> {
  readonly type: string = "counter";
  protected create(labels: Labels) {
    return new ScalarSeries(labels);
  }
  protected render(s: ScalarSeries, out: Value[], _name: string) {
    out.push({ labels: s.labels, value: s.value });
  }
}

export class GaugeFamily extends CounterFamily {
  override readonly type: string = "gauge";
}

/** One histogram series: per-bucket (not cumulative) counts, sum and count. */
export class HistogramSeries {
  touched = false;
  sum = 0;
  count = 0;
  readonly counts: Float64Array;
  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length);
  }
  observe(v: number): void {
    this.touched = true;
    this.sum += v;
    this.count++;
    const b = this.bounds;
    for (let i = 0; i < b.length; i++)
      if (v <= b[i]!) {
        this.counts[i]!++;
        return;
      }
  }
}

export class HistogramFamily extends Family<HistogramSeries> {
  readonly type: string = "histogram";
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly buckets: readonly number[],
    registry: Registry,
  ) {
    super(name, help, labelNames, registry);
  }
  protected create(labels: Labels) {
    return new HistogramSeries(labels, this.buckets);
  }
  protected render(s: HistogramSeries, out: Value[], name: string) {
    const bucket = `${name}_bucket`;
    let acc = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      acc += s.counts[i]!;
      out.push({
        labels: { le: String(this.buckets[i]) },
        sharedLabels: s.labels,
        value: acc,
        metricName: bucket,
      });
    }
    out.push({ labels: { le: "+Inf" }, sharedLabels: s.labels, value: s.count, metricName: bucket });
    out.push({ labels: s.labels, value: s.sum, metricName: `${name}_sum` });
    out.push({ labels: s.labels, value: s.count, metricName: `${name}_count` });
  }
}

/**
 * A family shown under its own name from another family's series: for a metric upstream
 * publishes under two names with the same values (GIE's `inference_extension_*` and llm-d's
 * `llm_d_epp_*`), so each observation is recorded once, not once per name. Its label names
 * stand in the same positions as the source's (llm-d's `endpoint_name` for GIE's `pod_name`);
 * what /metrics shows is what a second family fed the same observations would show. Issue 19,
 * seventh pass.
 */
export class TwinFamily {
  readonly type: string;
  private readonly relabel: ((labels: Labels) => Labels) | undefined;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly of: Family<{ touched: boolean; labels: Labels }>,
    registry: Registry,
    readonly labelNames: readonly string[] = of.labelNames,
  ) {
    if (labelNames.length !== of.labelNames.length)
      throw new Error(`metric ${name}: a twin needs as many labels as ${of.name}`);
    this.type = of.type;
    const from = of.labelNames;
    this.relabel = labelNames.every((n, i) => n === from[i])
      ? undefined
      : (labels) => {
          const out: Labels = {};
          for (let i = 0; i < from.length; i++) out[labelNames[i]!] = labels[from[i]!]!;
          return out;
        };
    registry.registerMetric(this as never);
  }

  async get() {
    const values = this.of.values(this.name, this.relabel);
    return { name: this.name, help: this.help, type: this.type, values, aggregator: "sum" };
  }

  /** The source family's reset clears the series both show. */
  reset(): void {}
}
