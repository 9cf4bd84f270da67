/**
 * Byte-level helpers for the answer path: find ASCII patterns in `Uint8Array`s without
 * decoding them, so a chunk that needs no change is never turned into a string.
 * Patterns are JSON keys with their quotes (`"usage":{`): an escaped JSON string never
 * holds a bare `"`, so such a pattern can only match real JSON syntax, never text.
 */

const encoder = new TextEncoder();

/** An ASCII (or UTF-8) pattern, encoded once. */
export function pattern(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * Index of `needle` in `hay[from, to)`, or -1. The native `indexOf` looks for the needle's
 * last byte (for the patterns used here a rare one, `{` or `:`, not the `"` that JSON is
 * full of), then the rest is compared.
 */
export function indexOfBytes(hay: Uint8Array, needle: Uint8Array, from = 0, to = hay.length): number {
  const n = needle.length;
  if (n === 0) return from;
  const k = n - 1;
  const anchor = needle[k]!;
  let at = from + k;
  while (at < to) {
    at = hay.indexOf(anchor, at);
    if (at === -1 || at >= to) return -1;
    const start = at - k;
    let j = 0;
    while (j < k && hay[start + j] === needle[j]) j++;
    if (j === k) return start;
    at++;
  }
  return -1;
}

/**
 * Index of the last `needle` that starts in `hay[0, before)`, or -1: `indexOfBytes` from
 * the end (the native `lastIndexOf` finds the needle's last byte). For what servers put
 * last, as the answer's top-level usage, it reads the tail of the body, not all of it.
 */
export function lastIndexOfBytes(hay: Uint8Array, needle: Uint8Array, before = hay.length): number {
  const n = needle.length;
  if (n === 0) return Math.min(before, hay.length);
  const k = n - 1;
  const anchor = needle[k]!;
  let at = Math.min(before + k, hay.length) - 1;
  while (at >= k) {
    at = hay.lastIndexOf(anchor, at);
    if (at < k) return -1;
    const start = at - k;
    let j = 0;
    while (j < k && hay[start + j] === needle[j]) j++;
    if (j === k) return start;
    at--;
  }
  return -1;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

/** Index just past the JSON string starting at `hay[at]` (a `"`), or -1 when it does not end. */
export function stringEnd(hay: Uint8Array, at: number): number {
  for (let i = at + 1; i < hay.length; i++) {
    const b = hay[i];
    if (b === BACKSLASH) i++;
    else if (b === QUOTE) return i + 1;
  }
  return -1;
}

/**
 * A byte searched for over a span that may be long (a prompt). Bun's typed-array `indexOf`
 * is a memchr; V8's is a loop (~10 µs over 30 KiB on Node 20), while Node's
 * `Buffer.prototype.indexOf` is a memchr that takes any `Uint8Array` (~0.3 µs). The same
 * answer either way; where there is no Node `Buffer` (Workers, Deno) the typed array's own.
 */
const nodeIndexOf: ((this: Uint8Array, value: number, from: number) => number) | undefined =
  typeof (globalThis as { Bun?: unknown }).Bun === "undefined" &&
  typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === "string"
    ? (globalThis as { Buffer?: { prototype: { indexOf(value: number, from: number): number } } }).Buffer
        ?.prototype.indexOf
    : undefined;
const longIndexOf = (hay: Uint8Array, value: number, from: number): number =>
  nodeIndexOf === undefined ? hay.indexOf(value, from) : nodeIndexOf.call(hay, value, from);

/**
 * stringEnd for strings that may be long (a prompt): the closing quote is looked for with
 * the native `indexOf` (a quote preceded by an odd run of backslashes is escaped), so a
 * 30 KiB string costs a memchr or a few, not a JS loop over its bytes.
 */
export function longStringEnd(hay: Uint8Array, at: number): number {
  let i = at;
  for (;;) {
    i = longIndexOf(hay, QUOTE, i + 1);
    if (i === -1) return -1;
    let b = i - 1;
    while (hay[b] === BACKSLASH) b--;
    if ((i - 1 - b) % 2 === 0) return i + 1;
  }
}

const isSpace = (b: number | undefined) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/** First index at or after `at` that is not JSON whitespace. */
export function skipSpace(hay: Uint8Array, at: number): number {
  while (isSpace(hay[at])) at++;
  return at;
}

/** Index just past the JSON value starting at `hay[at]` (strings skipped natively), or -1. */
function skipValue(hay: Uint8Array, at: number): number {
  const b = hay[at];
  if (b === QUOTE) return longStringEnd(hay, at);
  if (b !== 0x7b && b !== 0x5b) {
    // A number, true, false or null: up to the next delimiter.
    let i = at;
    while (i < hay.length && hay[i] !== 0x2c && hay[i] !== 0x7d && hay[i] !== 0x5d && !isSpace(hay[i])) i++;
    return i > at ? i : -1;
  }
  return containerEnd(hay, at, longStringEnd);
}

/**
 * Where the top-level `key` (its bytes with the quotes, e.g. `"model"`) of a JSON object
 * holds its value: `[start, end)`, the last one when the key is repeated (the one
 * `JSON.parse` keeps). Undefined when there is none, a key is escaped, or the bytes are not
 * an object. One walk
 * over the object's structure; string values (prompts) are skipped by the native indexOf.
 */
export function topLevelValue(hay: Uint8Array, key: Uint8Array): [number, number] | undefined {
  let i = skipSpace(hay, 0);
  if (hay[i] !== 0x7b) return undefined;
  let found: [number, number] | undefined;
  i = skipSpace(hay, i + 1);
  if (hay[i] === 0x7d) return undefined;
  for (;;) {
    if (hay[i] !== QUOTE) return undefined;
    const keyEnd = longStringEnd(hay, i);
    if (keyEnd === -1) return undefined;
    // An escaped key might spell `key` another way (`"mod\u0065l"`): leave such bodies alone.
    // Looked for inside the key only: a search of the rest of the body stopped at the first
    // backslash or the end, a whole prompt per key on a body without one (V8's typed-array
    // indexOf is no memchr: a renamed 30 KiB body took ~50 µs on Node).
    for (let j = i + 1; j < keyEnd - 1; j++) if (hay[j] === BACKSLASH) return undefined;
    let same = keyEnd - i === key.length;
    for (let j = 0; same && j < key.length; j++) same = hay[i + j] === key[j];
    i = skipSpace(hay, keyEnd);
    if (hay[i] !== COLON) return undefined;
    const start = skipSpace(hay, i + 1);
    const end = skipValue(hay, start);
    if (end === -1) return undefined;
    if (same) found = [start, end];
    i = skipSpace(hay, end);
    if (hay[i] === 0x7d) return found;
    if (hay[i] !== 0x2c) return undefined;
    i = skipSpace(hay, i + 1);
  }
}

/** Index just past the JSON object or array opening at `hay[at]`, or -1 when it does not close. */
export function valueEnd(hay: Uint8Array, at: number): number {
  return containerEnd(hay, at, stringEnd);
}

/**
 * Index just past the object or array opening at `hay[at]` (-1 when it does not close),
 * strings skipped by `endOf`: the JS loop for short ones (usage objects), the native
 * indexOf for ones that may be long (prompts in a request body).
 */
function containerEnd(hay: Uint8Array, at: number, endOf: (hay: Uint8Array, at: number) => number): number {
  let depth = 0;
  for (let i = at; i < hay.length; i++) {
    const b = hay[i];
    if (b === QUOTE) {
      const end = endOf(hay, i);
      if (end === -1) return -1;
      i = end - 1;
    } else if (b === 0x7b || b === 0x5b) depth++;
    else if (b === 0x7d || b === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/** `parts` joined into one array (the one part itself when there is only one). */
export function concatBytes(parts: readonly Uint8Array[], total?: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let size = total ?? 0;
  if (total === undefined) for (const p of parts) size += p.byteLength;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
