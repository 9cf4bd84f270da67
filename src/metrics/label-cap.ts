/**
 * Caps the distinct values one metric label may take: the first `max` values seen are
 * kept, anything after that is reported as `other`. Model names come from clients
 * (a typo, a scan of random names), and each new value would otherwise be a new
 * time series for ever.
 */
export class LabelCap {
  private readonly seen = new Set<string>();

  constructor(private readonly max = 100) {}

  value(v: string): string {
    if (this.seen.has(v)) return v;
    if (this.seen.size >= this.max) return "other";
    this.seen.add(v);
    return v;
  }
}

export type ModelLabels = { model_name: string; target_model_name: string };

/** Capped `{model_name, target_model_name}` pairs, built once per distinct pair. */
export class ModelLabelCap {
  private readonly models: LabelCap;
  private readonly cache = new Map<string, ModelLabels>();

  constructor(max = 100) {
    this.models = new LabelCap(max);
  }

  of(model: string, target: string): ModelLabels {
    const key = `${model}\u0000${target}`;
    let labels = this.cache.get(key);
    if (!labels) {
      labels = Object.freeze({
        model_name: this.models.value(model),
        target_model_name: this.models.value(target),
      });
      if (this.cache.size < 10_000) this.cache.set(key, labels);
    }
    return labels;
  }
}
