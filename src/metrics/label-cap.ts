/**
 * Label values that come from clients (model names, fairness ids) must not grow
 * `/metrics` without bound: Prometheus series are never forgotten, and each distinct
 * value is a new series for ever. So a client-derived value is bounded three ways:
 *
 * - length: a value longer than `maxLength` is not a name anyone configured; it is
 *   reported as `other` (truncating would still mint a new series per prefix);
 * - count: the first `max` values keep their own series, later ones become `other`
 *   (GIE and llm-d do the same, with pinned names for configured rewrites);
 * - vouching (model names only): a name labels metrics only once the gateway accepted
 *   a request for it (authorized, and a pod serves its target). A name the gateway
 *   refused (unknown model, 403), and any model name over `MAX_LABEL_LENGTH`, is
 *   reported as `unknown`, so a scan of made-up names costs no series at all.
 */

/** Reported instead of a value past the count or length cap. */
export const OVERFLOW_LABEL = "other";
/** Reported instead of a model name the gateway never accepted a request for. */
export const UNKNOWN_LABEL = "unknown";
/** Longest label value taken from a client; Kubernetes names stop at 253. */
export const MAX_LABEL_LENGTH = 256;

/** Caps the distinct values (and their length) one metric label may take. */
export class LabelCap {
  private readonly seen = new Set<string>();

  constructor(
    private readonly max = 100,
    private readonly maxLength = MAX_LABEL_LENGTH,
  ) {}

  value(v: string): string {
    if (v.length > this.maxLength) return OVERFLOW_LABEL;
    if (this.seen.has(v)) return v;
    if (this.seen.size >= this.max) return OVERFLOW_LABEL;
    this.seen.add(v);
    return v;
  }
}

export type ModelLabels = { model_name: string; target_model_name: string };

const OVERFLOW_PAIR: ModelLabels = Object.freeze({
  model_name: OVERFLOW_LABEL,
  target_model_name: OVERFLOW_LABEL,
});

/**
 * Bounded `{model_name, target_model_name}` pairs. The request path vouches for names
 * with `accept` once a request is authorized and servable; until then they label as
 * `unknown`. A served (target) name is pinned: a pod serves it, so the pool bounds
 * them, and a flood of client-chosen aliases cannot push it into `other`; so are the
 * names the operator configured (`pin`: rewrite aliases), as GIE pins its rewrite names.
 * Other requested names share the count cap.
 * Distinct pairs are capped too (`maxPairs`), since a client choosing both names could
 * otherwise mint names × targets series.
 */
export class ModelLabelCap {
  private readonly models: LabelCap;
  private readonly accepted = new Set<string>();
  private readonly pinned = new Set<string>();
  private readonly pairs = new Map<string, ModelLabels>();

  constructor(
    max = 100,
    private readonly maxPairs = max * 4,
  ) {
    this.models = new LabelCap(max);
  }

  /** Lets these names label metrics: `target` (served by a pod) always, `requested` within the caps. */
  accept(requested: string, target: string): void {
    add(this.pinned, target);
    if (!this.pinned.has(requested)) add(this.accepted, requested);
  }

  /** Names the operator configured: they always label as themselves (length cap aside). */
  pin(names: Iterable<string>): void {
    for (const name of names) add(this.pinned, name);
  }

  /** The label value for one model name: its own, `unknown`, `other`, or "" for none. */
  name(model: string): string {
    if (model === "") return "";
    if (this.pinned.has(model)) return model;
    // Names over MAX_LABEL_LENGTH are never accepted: no one configures such a name.
    if (!this.accepted.has(model)) return UNKNOWN_LABEL;
    return this.models.value(model);
  }

  of(model: string, target: string): ModelLabels {
    const labels = { model_name: this.name(model), target_model_name: this.name(target) };
    const key = `${labels.model_name}\u0000${labels.target_model_name}`;
    const known = this.pairs.get(key);
    if (known) return known;
    if (this.pairs.size >= this.maxPairs) return OVERFLOW_PAIR;
    const frozen = Object.freeze(labels);
    this.pairs.set(key, frozen);
    return frozen;
  }
}

/** Adds a name within the length cap to a set that never holds more than 10,000. */
function add(set: Set<string>, name: string): void {
  if (name.length <= MAX_LABEL_LENGTH && set.size < 10_000) set.add(name);
}
