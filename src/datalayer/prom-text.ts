/**
 * Parser for the Prometheus text exposition format 0.0.4 (what vLLM, SGLang, TRT-LLM and
 * Triton serve on `/metrics`).
 *
 * One pass over the text, one line at a time, found with `indexOf("\n")`; no regular
 * expressions, so the cost is linear in the body size. The gateway scrapes every endpoint
 * every 50 ms, and with a `wanted` filter a line of an unwanted metric costs one `indexOf`,
 * a look at its first characters (at most a name scan) and no allocation.
 *
 * Accepted: `# HELP` / `# TYPE` and any other comment (skipped), blank lines, CRLF,
 * metric names with colons, label values with `\\`, `\"` and `\n` escapes and commas,
 * a trailing comma in a label set, values `NaN` / `+Inf` / `-Inf` / scientific notation,
 * an optional integer timestamp (ms). Lenient where harmless: an unknown escape such as
 * `\t` keeps both characters, a repeated label name keeps the last value.
 *
 * Samples are keyed by the name on the line, so a histogram `foo` yields the keys
 * `foo_bucket`, `foo_sum` and `foo_count`.
 */

export interface Sample {
  labels: Record<string, string>;
  value: number;
  /** Milliseconds since the epoch, when the line carries one. */
  timestamp?: number;
}

export interface ParseResult {
  /** Samples per metric name, in the order they appear. */
  families: Map<string, Sample[]>;
  /** Lines that were not comments, not blank and could not be parsed (skipped). */
  errors: number;
}

const SPACE = 32;
const TAB = 9;
const CR = 13;
const HASH = 35;
const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const EQUALS = 61;
const OPEN = 123;
const CLOSE = 125;

/** `[a-zA-Z_:]` (`first`) or `[a-zA-Z0-9_:]`; label names use the same minus the colon. */
function isNameChar(c: number, first: boolean, colon: boolean): boolean {
  if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95) return true;
  if (c === 58) return colon;
  return !first && c >= 48 && c <= 57;
}

function skipBlanks(s: string, i: number, end: number): number {
  let c = s.charCodeAt(i);
  while (i < end && (c === SPACE || c === TAB)) c = s.charCodeAt(++i);
  return i;
}

/** Go's ParseFloat spellings of the special values, which `Number()` does not accept. */
const SPECIAL: Record<string, number> = {
  nan: Number.NaN,
  inf: Number.POSITIVE_INFINITY,
  "+inf": Number.POSITIVE_INFINITY,
  "-inf": Number.NEGATIVE_INFINITY,
  infinity: Number.POSITIVE_INFINITY,
  "+infinity": Number.POSITIVE_INFINITY,
  "-infinity": Number.NEGATIVE_INFINITY,
};

/** A float token, or undefined when it is not one (`Number("")` would say 0). */
function parseValue(token: string): number | undefined {
  if (token.length === 0) return undefined;
  const n = Number(token);
  if (!Number.isNaN(n)) return n;
  return SPECIAL[token.toLowerCase()];
}

function parseTimestamp(token: string): number | undefined {
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (i === 0 && c === 45 && token.length > 1))) return undefined;
  }
  return Number(token);
}

function setLabel(labels: Record<string, string>, name: string, value: string): void {
  // `__proto__` is a valid label name; a plain assignment would be swallowed by the prototype setter.
  if (name === "__proto__") {
    Object.defineProperty(labels, name, { value, enumerable: true, writable: true, configurable: true });
  } else labels[name] = value;
}

/**
 * Reads a quoted label value starting after its opening quote into `out.v`; returns the
 * index after the closing quote, or -1. Values without escapes are one `slice`.
 */
function readQuoted(s: string, i: number, end: number, out: { v: string }): number {
  let v = "";
  let from = i;
  for (let j = i; j < end; j++) {
    const c = s.charCodeAt(j);
    if (c === QUOTE) {
      out.v = from === i ? s.slice(i, j) : v + s.slice(from, j);
      return j + 1;
    }
    if (c !== BACKSLASH) continue;
    if (j + 1 >= end) return -1;
    const next = s.charCodeAt(j + 1);
    v += s.slice(from, j);
    if (next === BACKSLASH) v += "\\";
    else if (next === QUOTE) v += '"';
    else if (next === 110) v += "\n";
    else v += s.slice(j, j + 2);
    from = j + 2;
    j++;
  }
  return -1;
}

/** Parses a label set starting after `{`; returns the index after `}`, or -1 when malformed. */
function readLabels(s: string, i: number, end: number, labels: Record<string, string>): number {
  const out = { v: "" };
  for (;;) {
    i = skipBlanks(s, i, end);
    if (i >= end) return -1;
    if (s.charCodeAt(i) === CLOSE) return i + 1;
    const start = i;
    while (i < end && isNameChar(s.charCodeAt(i), i === start, false)) i++;
    if (i === start) return -1;
    const name = s.slice(start, i);
    i = skipBlanks(s, i, end);
    if (s.charCodeAt(i) !== EQUALS) return -1;
    i = skipBlanks(s, i + 1, end);
    if (i >= end || s.charCodeAt(i) !== QUOTE) return -1;
    i = readQuoted(s, i + 1, end, out);
    if (i < 0) return -1;
    setLabel(labels, name, out.v);
    i = skipBlanks(s, i, end);
    const c = s.charCodeAt(i);
    if (c === COMMA) i++;
    else if (c !== CLOSE || i >= end) return -1;
  }
}

/** Reads a whitespace-delimited token; returns [token, index after it]. */
function readToken(s: string, i: number, end: number): [string, number] {
  const start = i;
  let c = s.charCodeAt(i);
  while (i < end && c !== SPACE && c !== TAB) c = s.charCodeAt(++i);
  return [s.slice(start, i), i];
}

/** Parses one sample line `[start, end)` (no line break); undefined when malformed. */
function parseSample(s: string, start: number, end: number, name: string, i: number): Sample | undefined {
  const labels: Record<string, string> = {};
  i = skipBlanks(s, i, end);
  if (s.charCodeAt(i) === OPEN && i < end) {
    i = readLabels(s, i + 1, end, labels);
    if (i < 0) return undefined;
  } else if (i === start + name.length) return undefined; // name must be followed by `{` or a blank
  i = skipBlanks(s, i, end);
  const [valueToken, afterValue] = readToken(s, i, end);
  const value = parseValue(valueToken);
  if (value === undefined) return undefined;
  i = skipBlanks(s, afterValue, end);
  if (i >= end) return { labels, value };
  const [tsToken, afterTs] = readToken(s, i, end);
  const timestamp = parseTimestamp(tsToken);
  if (timestamp === undefined || skipBlanks(s, afterTs, end) < end) return undefined;
  return { labels, value, timestamp };
}

/**
 * A `wanted` set as one pattern that finds the lines naming a wanted metric (built once per
 * set: an engine mapping's set lives as long as the mapping): a line break (or the text's
 * start), blanks, one of the names, and no name character after it. The runtime's regular
 * expression engine walks the page natively, so the lines of other metrics (most of a vLLM
 * page: ~1,450 lines, histogram buckets and counters, of which the gateway reads ~10) are
 * never visited in JS (issue 19, twenty-second pass: a full-size vLLM page 98 → 26 µs on Bun,
 * 98 → 50 on Node; the line-by-line filter before it tested each line's first characters).
 */
const PREPARED = new WeakMap<ReadonlySet<string>, RegExp | undefined>();

function prepared(wanted: ReadonlySet<string>): RegExp | undefined {
  if (PREPARED.has(wanted)) return PREPARED.get(wanted);
  const names = [...wanted].map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const pattern =
    names.length === 0
      ? undefined
      : new RegExp(String.raw`(?:^|\n)[ \t]*(${names.join("|")})(?![a-zA-Z0-9_:])`, "g");
  PREPARED.set(wanted, pattern);
  return pattern;
}

/** `parsePromText` with a wanted filter: only the wanted names' lines are read (see `prepared`). */
function parseWanted(text: string, pattern: RegExp | undefined): ParseResult {
  const families = new Map<string, Sample[]>();
  let errors = 0;
  if (pattern === undefined) return { families, errors };
  const length = text.length;
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    const name = m[1]!;
    const j = pattern.lastIndex;
    let end = text.indexOf("\n", j);
    if (end === -1) end = length;
    // The next search starts at this line's break: the next line's start.
    pattern.lastIndex = end;
    if (end > j && text.charCodeAt(end - 1) === CR) end--;
    const sample = parseSample(text, j - name.length, end, name, j);
    if (sample === undefined) errors++;
    else {
      const list = families.get(name);
      if (list === undefined) families.set(name, [sample]);
      else list.push(sample);
    }
  }
  return { families, errors };
}

/**
 * Parses an exposition. Never throws: a malformed line is skipped and counted in `errors`.
 * With `wanted`, only the lines that name a wanted metric are read: lines of other metrics,
 * and lines that name no metric at all, are neither parsed nor counted as errors.
 */
export function parsePromText(text: string, wanted?: ReadonlySet<string>): ParseResult {
  if (wanted !== undefined) return parseWanted(text, prepared(wanted));
  const families = new Map<string, Sample[]>();
  let errors = 0;
  const length = text.length;
  let pos = 0;
  while (pos < length) {
    let end = text.indexOf("\n", pos);
    if (end === -1) end = length;
    const next = end + 1;
    if (end > pos && text.charCodeAt(end - 1) === CR) end--;
    const i = skipBlanks(text, pos, end);
    if (i >= end || text.charCodeAt(i) === HASH) {
      pos = next;
      continue;
    }
    if (!isNameChar(text.charCodeAt(i), true, true)) {
      errors++;
      pos = next;
      continue;
    }
    let j = i + 1;
    while (j < end && isNameChar(text.charCodeAt(j), false, true)) j++;
    const name = text.slice(i, j);
    const sample = parseSample(text, i, end, name, j);
    if (sample === undefined) errors++;
    else {
      const list = families.get(name);
      if (list === undefined) families.set(name, [sample]);
      else list.push(sample);
    }
    pos = next;
  }
  return { families, errors };
}
