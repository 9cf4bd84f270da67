/**
 * The unit spellings GIE's `flowControl` YAML uses: Kubernetes quantities for sizes
 * (`1Gi`, `500M`, `5k`, `1e9`, plain integers) and Go durations for times (`60s`,
 * `1m30s`, `250ms`). Both parsers return undefined for anything they do not accept.
 */

const QUANTITY = /^([0-9]+(?:\.[0-9]+)?)(?:([eE][0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E))?$/;

const SUFFIX: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** A Kubernetes quantity (or a number) as a whole number, rounded up; undefined if malformed. */
export function parseQuantity(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? Math.ceil(value) : undefined;
  const m = QUANTITY.exec(value.trim());
  if (!m) return undefined;
  const base = Number(m[1]);
  const scale = m[2] ? 10 ** Number(m[2].slice(1)) : m[3] ? (SUFFIX[m[3]] ?? 1) : 1;
  const n = Math.ceil(base * scale);
  return Number.isFinite(n) ? n : undefined;
}

const DURATION_PART = /([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/g;
const DURATION = /^(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|µs|ms|s|m|h))+$/;
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6 };

/** A Go duration string (`1m30s`, `250ms`) in milliseconds; undefined if malformed. */
export function parseDuration(value: string): number | undefined {
  const text = value.trim();
  if (!DURATION.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(DURATION_PART)) ms += Number(m[1]) * (UNIT_MS[m[2] ?? ""] ?? 0);
  return ms;
}
