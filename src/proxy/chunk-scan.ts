/**
 * What the SSE tap reads from an OpenAI chunk frame's JSON, read from its bytes without
 * decoding or parsing it (issue 19, sixteenth pass): whether it carries generated text (the
 * first content frame's confirmation: `confirmedContent`), whether `choices` is `[]` (the
 * usage-only chunk to drop) and its usage numbers (`usageOf("openai", obj.usage)`).
 *
 * The frame is walked once as JSON, strictly: a frame this walk accepts is one that
 * `frameJsonIn` would parse into an object, and what it reports is what that object would
 * say (the last of duplicate keys wins, as in JSON.parse). Anything it is not sure of answers
 * UNSURE and the caller parses: a CR, more than one data line, a key with an escape, a usage
 * number that is not a plain integer of at most 15 digits, nesting deeper than 32, bytes that
 * are not JSON. Nothing is allocated but the usage object.
 */
import { indexOfByte } from "./byte-index.ts";
import type { Usage } from "./usage.ts";

/** The walk is not sure: parse the frame. */
export const UNSURE = -1;
/** `choices` is an array with a choice carrying a non-empty text (confirmedContent). */
export const SCAN_CONTENT = 1;
/** `choices` is an empty array. */
export const SCAN_NO_CHOICES = 2;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LF = 0x0a;
const MAX_DEPTH = 32;

// The keys the walk looks at, as bytes (without quotes).
const key = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const CHOICES = key("choices");
const USAGE = key("usage");
const TEXT = key("text");
const DELTA = key("delta");
const CONTENT = key("content");
const REASONING_CONTENT = key("reasoning_content");
const REASONING = key("reasoning");
const PROMPT = key("prompt_tokens");
const COMPLETION = key("completion_tokens");
const TOTAL = key("total_tokens");
const DETAILS = key("prompt_tokens_details");
const CACHED = key("cached_tokens");

// The walk's state (one walk at a time, synchronous): the bytes, the position, the end.
let b: Uint8Array = new Uint8Array(0);
let p = 0;
let e = 0;
let depth = 0;
/** The last string walked: its raw length between the quotes, and whether it had an escape. */
let strLen = 0;
let strEscaped = false;
/** The last number walked: its value when a plain integer of at most 15 digits, else NaN. */
let numValue = 0;

// What the walk learned: undefined absent, null present but not a number (or not sure).
let prompt: number | null | undefined;
let completion: number | null | undefined;
let total: number | null | undefined;
let cached: number | null | undefined;
let usageIsObject = false;
let choicesState = 0;

/** The usage the last sure scan found (`usageOf("openai", obj.usage)`), or undefined. */
export function scannedUsage(): Usage | undefined {
  if (!usageIsObject) return undefined;
  const pr =
    typeof prompt === "number"
      ? prompt
      : completion === undefined && typeof total === "number"
        ? total
        : undefined;
  if (pr === undefined) return undefined;
  return {
    promptTokens: pr,
    completionTokens: typeof completion === "number" ? completion : 0,
    cachedTokens: typeof cached === "number" ? cached : 0,
  };
}

/**
 * The chunk frame `buf[start, end)` (`data: {...}`, its blank line): SCAN_CONTENT |
 * SCAN_NO_CHOICES, with its usage then read by `scannedUsage()`; or UNSURE.
 */
export function scanChunk(buf: Uint8Array, start: number, end: number): number {
  if (
    start + 5 > end ||
    buf[start] !== 0x64 ||
    buf[start + 1] !== 0x61 ||
    buf[start + 2] !== 0x74 ||
    buf[start + 3] !== 0x61 ||
    buf[start + 4] !== 0x3a
  )
    return UNSURE; // "data:"
  let from = start + 5;
  if (from < end && buf[from] === 0x20) from++;
  // The data line ends at the first LF; what follows it must be LFs alone.
  let lineEnd = indexOfByte(buf, LF, from);
  if (lineEnd === -1 || lineEnd > end) lineEnd = end;
  for (let i = lineEnd; i < end; i++) if (buf[i] !== LF) return UNSURE;
  b = buf;
  p = from;
  e = lineEnd;
  depth = 0;
  prompt = completion = total = cached = undefined;
  usageIsObject = false;
  choicesState = 0;
  ws();
  if (p >= e || b[p] !== 0x7b) return UNSURE;
  const ok = topObject();
  b = EMPTY;
  if (!ok) return UNSURE;
  return choicesState;
}
const EMPTY = new Uint8Array(0);

function ws(): void {
  const c = b[p];
  if (c !== 0x20 && c !== 0x09) return;
  let i = p + 1;
  while (i < e && (b[i] === 0x20 || b[i] === 0x09)) i++;
  p = i;
}

/** The member's key (`b[keyAt, keyAt + keyLen)`, set by `members` before it walks the value). */
let keyAt = 0;
let keyLen = 0;

/** The member's key is `k`. */
function keyIs(k: Uint8Array): boolean {
  if (keyLen !== k.length) return false;
  for (let j = 0; j < k.length; j++) if (b[keyAt + j] !== k[j]) return false;
  return true;
}

/** Walks `"..."` at p; false when it is not a JSON string (or holds a raw control byte). */
function string(): boolean {
  const buf = b;
  const to = e;
  let i = p;
  if (buf[i] !== QUOTE) return false;
  const s = ++i;
  let escaped = false;
  while (i < to) {
    const c = buf[i]!;
    if (c === QUOTE) {
      strLen = i - s;
      strEscaped = escaped;
      p = i + 1;
      return true;
    }
    if (c === BACKSLASH) {
      escaped = true;
      const n = buf[i + 1];
      if (n === 0x75) {
        for (let j = 2; j < 6; j++) {
          const h = buf[i + j]!;
          if (!((h >= 0x30 && h <= 0x39) || (h >= 0x41 && h <= 0x46) || (h >= 0x61 && h <= 0x66)))
            return false;
        }
        i += 6;
      } else if (
        n === QUOTE ||
        n === BACKSLASH ||
        n === 0x2f ||
        n === 0x62 ||
        n === 0x66 ||
        n === 0x6e ||
        n === 0x72 ||
        n === 0x74
      )
        i += 2;
      else return false;
    } else if (c < 0x20) return false;
    else i++;
  }
  return false;
}

const digit = (c: number | undefined) => c !== undefined && c >= 0x30 && c <= 0x39;

/** Walks a JSON number at p; `numValue` its value when a plain integer of ≤ 15 digits, else NaN. */
function number(): boolean {
  const s = p;
  let neg = false;
  if (b[p] === 0x2d) {
    neg = true;
    p++;
  }
  if (p >= e) return false;
  if (b[p] === 0x30) p++;
  else if (digit(b[p]) && b[p] !== 0x30) while (p < e && digit(b[p])) p++;
  else return false;
  const intEnd = p;
  let plain = true;
  if (p < e && b[p] === 0x2e) {
    plain = false;
    p++;
    if (p >= e || !digit(b[p])) return false;
    while (p < e && digit(b[p])) p++;
  }
  if (p < e && (b[p] === 0x65 || b[p] === 0x45)) {
    plain = false;
    p++;
    if (p < e && (b[p] === 0x2b || b[p] === 0x2d)) p++;
    if (p >= e || !digit(b[p])) return false;
    while (p < e && digit(b[p])) p++;
  }
  const digits = intEnd - (neg ? s + 1 : s);
  if (!plain || digits > 15) numValue = Number.NaN;
  else {
    let v = 0;
    for (let i = intEnd - digits; i < intEnd; i++) v = v * 10 + (b[i]! - 0x30);
    numValue = neg ? -v : v;
  }
  return true;
}

/** Walks the literal `word` at p. */
function literal(word: readonly number[]): boolean {
  if (p + word.length > e) return false;
  for (let j = 0; j < word.length; j++) if (b[p + j] !== word[j]) return false;
  p += word.length;
  return true;
}
const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];

/** Walks any JSON value at p, learning nothing from it. */
function value(): boolean {
  const c = b[p];
  if (c === QUOTE) return string();
  if (c === 0x7b) return members(SKIP);
  if (c === 0x5b) return elements(false);
  if (c === 0x74) return literal(TRUE);
  if (c === 0x66) return literal(FALSE);
  if (c === 0x6e) return literal(NULL);
  return number();
}

/** Walks `{...}` at p, each member's value walked by `member(kind)` (called at the value, its key just walked). */
function members(kind: number): boolean {
  if (++depth > MAX_DEPTH) return false;
  p++; // {
  ws();
  if (b[p] === 0x7d) {
    p++;
    depth--;
    return true;
  }
  for (;;) {
    if (!string() || strEscaped) return false;
    keyLen = strLen;
    keyAt = p - 1 - strLen;
    ws();
    if (b[p] !== 0x3a) return false;
    p++;
    ws();
    if (p >= e || !member(kind)) return false;
    ws();
    const c = b[p];
    p++;
    if (c === 0x7d) {
      depth--;
      return true;
    }
    if (c !== 0x2c) return false;
    ws();
  }
}

/** Walks `[...]` at p, each element walked by `choice` (`choices`) or `value`; `elementCount` how many. */
let elementCount = 0;
function elements(choices: boolean): boolean {
  if (++depth > MAX_DEPTH) return false;
  p++; // [
  ws();
  if (b[p] === 0x5d) {
    p++;
    depth--;
    elementCount = 0;
    return true;
  }
  let n = 0;
  for (;;) {
    if (p >= e || !(choices ? choice() : value())) return false;
    n++;
    ws();
    const c = b[p];
    p++;
    if (c === 0x5d) {
      depth--;
      elementCount = n;
      return true;
    }
    if (c !== 0x2c) return false;
    ws();
  }
}

/** The objects the walk reads members of (`members`' kind). */
const SKIP = 0;
const TOP = 1;
const CHOICE = 2;
const DELTA_MEMBERS = 3;
const USAGE_MEMBERS = 4;
const DETAILS_MEMBERS = 5;

/** One member's value at p (its key just walked), as the object of `kind` reads it. */
function member(kind: number): boolean {
  switch (kind) {
    case TOP:
      return topMember();
    case CHOICE:
      return choiceMember();
    case DELTA_MEMBERS:
      return deltaMember();
    case USAGE_MEMBERS:
      return usageMember();
    case DETAILS_MEMBERS:
      return detailsMember();
    default:
      return value();
  }
}

function topObject(): boolean {
  if (!members(TOP)) return false;
  ws();
  return p === e;
}

function topMember(): boolean {
  if (keyIs(CHOICES)) {
    if (b[p] !== 0x5b) {
      choicesState = 0;
      return value();
    }
    anyContent = false;
    if (!elements(true)) return false;
    choicesState = (anyContent ? SCAN_CONTENT : 0) | (elementCount === 0 ? SCAN_NO_CHOICES : 0);
    return true;
  }
  if (keyIs(USAGE)) {
    prompt = completion = total = cached = undefined;
    usageIsObject = b[p] === 0x7b;
    return usageIsObject ? members(USAGE_MEMBERS) : value();
  }
  return value();
}

// One choice: its last `text` and `delta` (and the delta's last text fields) decide.
let anyContent = false;
let textFilled = false;
let deltaFilled = false;
let dContent = false;
let dReasoningContent = false;
let dReasoning = false;

/** A non-empty string at p (walked), or any other value (walked): whether it was a non-empty string. */
function filled(): number {
  if (b[p] === QUOTE) return string() ? (strLen > 0 ? 1 : 0) : -1;
  return value() ? 0 : -1;
}

function choice(): boolean {
  if (b[p] !== 0x7b) return value();
  textFilled = false;
  deltaFilled = false;
  if (!members(CHOICE)) return false;
  if (textFilled || deltaFilled) anyContent = true;
  return true;
}

function choiceMember(): boolean {
  if (keyIs(TEXT)) {
    const f = filled();
    textFilled = f === 1;
    return f !== -1;
  }
  if (keyIs(DELTA)) {
    if (b[p] !== 0x7b) {
      deltaFilled = false;
      return value();
    }
    dContent = dReasoningContent = dReasoning = false;
    if (!members(DELTA_MEMBERS)) return false;
    deltaFilled = dContent || dReasoningContent || dReasoning;
    return true;
  }
  return value();
}

function deltaMember(): boolean {
  if (keyIs(CONTENT)) {
    const f = filled();
    dContent = f === 1;
    return f !== -1;
  }
  if (keyIs(REASONING_CONTENT)) {
    const f = filled();
    dReasoningContent = f === 1;
    return f !== -1;
  }
  if (keyIs(REASONING)) {
    const f = filled();
    dReasoning = f === 1;
    return f !== -1;
  }
  return value();
}

/** A usage number: its value, null when present but not a number; false (unsure) for a number not plain. */
function usageNumber(): number | null | false {
  const c = b[p];
  if (c === 0x2d || digit(c)) {
    if (!number() || Number.isNaN(numValue)) return false;
    return numValue;
  }
  return value() ? null : false;
}

function usageMember(): boolean {
  if (keyIs(PROMPT)) {
    const v = usageNumber();
    if (v === false) return false;
    prompt = v;
  } else if (keyIs(COMPLETION)) {
    const v = usageNumber();
    if (v === false) return false;
    completion = v;
  } else if (keyIs(TOTAL)) {
    const v = usageNumber();
    if (v === false) return false;
    total = v;
  } else if (keyIs(DETAILS)) {
    cached = undefined;
    if (b[p] !== 0x7b) return value();
    return members(DETAILS_MEMBERS);
  } else return value();
  return true;
}

function detailsMember(): boolean {
  if (!keyIs(CACHED)) return value();
  const v = usageNumber();
  if (v === false) return false;
  cached = v;
  return true;
}
