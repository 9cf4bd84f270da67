/**
 * Just enough PromQL reading to check a dashboard against a /metrics page without a
 * Prometheus: which series names an expression selects, which labels it groups or
 * joins by, and which label matchers it filters with. Not an evaluator.
 */

export interface Selector {
  /** Series name as written, e.g. `foo_bucket`. */
  metric: string;
  /** `label="value"` style matchers inside the selector's braces. */
  matchers: { label: string; op: string; value: string }[];
}

export interface QueryUse {
  selectors: Selector[];
  /** Labels named in `by (...)`, `without (...)`, `on (...)`, `ignoring (...)`, `group_*(...)`. */
  groupLabels: string[];
}

const KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "and",
  "or",
  "unless",
]);
const KEYWORDS_ALSO = new Set(["bool", "offset", "inf", "nan"]);

/** Reads the series selectors and grouping labels of one PromQL expression. */
export function readQuery(expr: string): QueryUse {
  const groupLabels = new Set<string>();
  // Grouping / join label lists first, so their labels are not mistaken for metrics.
  let rest = expr.replace(
    /\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g,
    (_m, _kw: string, list: string) => {
      for (const l of list.split(",")) if (l.trim()) groupLabels.add(l.trim());
      return " ";
    },
  );
  rest = rest.replace(/\[[^\]]*\]/g, " "); // range and subquery windows, e.g. [$__rate_interval]
  const selectors: Selector[] = [];
  const selector = /([a-zA-Z_:][\w:]*)?\s*\{([^}]*)\}|([a-zA-Z_:][\w:]*)/g;
  for (const m of rest.matchAll(selector)) {
    const [whole, named, body, bare] = m;
    const name = named ?? bare;
    const after = rest.slice(m.index! + whole.length).trimStart();
    if (body === undefined) {
      // A bare identifier: a function call, a keyword, or a series name.
      if (!name || after.startsWith("(") || KEYWORDS.has(name) || KEYWORDS_ALSO.has(name.toLowerCase()))
        continue;
      selectors.push({ metric: name, matchers: [] });
      continue;
    }
    const matchers = [...body.matchAll(/([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)].map(
      ([, label, op, value]) => ({ label: label!, op: op!, value: value! }),
    );
    const nameMatcher = matchers.find((x) => x.label === "__name__" && x.op === "=");
    const metric = name ?? nameMatcher?.value;
    if (metric) selectors.push({ metric, matchers: matchers.filter((x) => x.label !== "__name__") });
  }
  return { selectors, groupLabels: [...groupLabels] };
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text exposition into samples (comments skipped). */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? "").matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** Whether a sample passes one matcher (regex matchers anchored, as PromQL's are). */
export function matches(sample: Sample, m: { label: string; op: string; value: string }): boolean {
  const v = sample.labels[m.label] ?? "";
  switch (m.op) {
    case "=":
      return v === m.value;
    case "!=":
      return v !== m.value;
    case "=~":
      return new RegExp(`^(?:${m.value})$`).test(v);
    default:
      return !new RegExp(`^(?:${m.value})$`).test(v);
  }
}
