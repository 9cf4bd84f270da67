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
  /**
   * `of` answers by the names as given (requested → target → pair): no label object and no
   * joined key string per request (the key's concatenation and hash were most of `of`).
   * Valid until a name is newly accepted or pinned (the only changes that alter an answer
   * already given); bounded, as clients choose the names.
   */
  private answers = new Map<string, Map<string, ModelLabels>>();
  private answered = 0;
  private version = 0;
  private answersVersion = 0;

  constructor(
    max = 100,
    private readonly maxPairs = max * 4,
  ) {
    this.models = new LabelCap(max);
  }

  /** Lets these names label metrics: `target` (served by a pod) always, `requested` within the caps. */
  accept(requested: string, target: string): void {
    if (add(this.pinned, target)) this.version++;
    if (!this.pinned.has(requested) && add(this.accepted, requested)) this.version++;
  }

  /** Names the operator configured: they always label as themselves (length cap aside). */
  pin(names: Iterable<string>): void {
    for (const name of names) if (add(this.pinned, name)) this.version++;
  }

  /** The label value for one model name: its own, `unknown`, `other`, or "" for none. */
  name(model: string): string {
    if (model === "") return "";
    if (this.pinned.has(model)) return model;
    // Names over MAX_LABEL_LENGTH are never accepted: no one configures such a name.
    if (!this.accepted.has(model)) return UNKNOWN_LABEL;
    return this.models.value(model);
  }

  /** The interned label pair for a requested and a target model name. */
  of(model: string, target: string): ModelLabels {
    if (this.answersVersion !== this.version || this.answered >= MAX_ANSWERS) {
      this.answers = new Map();
      this.answered = 0;
      this.answersVersion = this.version;
    }
    let byTarget = this.answers.get(model);
    const known = byTarget?.get(target);
    if (known) return known;
    const pair = this.pairOf(model, target);
    if (!byTarget) {
      byTarget = new Map();
      this.answers.set(model, byTarget);
    }
    byTarget.set(target, pair);
    this.answered++;
    return pair;
  }

  private pairOf(model: string, target: string): ModelLabels {
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

/** Answers `ModelLabelCap.of` remembers before it starts over (client-chosen names). */
const MAX_ANSWERS = 10_000;

/** Adds a name within the length cap to a set that never holds more than 10,000; true if it was new. */
function add(set: Set<string>, name: string): boolean {
  if (name.length > MAX_LABEL_LENGTH || set.size >= 10_000 || set.has(name)) return false;
  set.add(name);
  return true;
}
