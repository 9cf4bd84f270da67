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

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

/**
 * True when `hay` has a string field named by one of `keys` (each given as `"name`, with
 * its opening quote) whose value is not empty: `"name":"x...`. One scan for `:`, then a
 * look around it, so the cost does not grow with the number of keys.
 */
export function hasNonEmptyStringAfter(hay: Uint8Array, keys: readonly Uint8Array[]): boolean {
  for (let p = hay.indexOf(COLON, 1); p !== -1; p = hay.indexOf(COLON, p + 1)) {
    if (hay[p - 1] !== QUOTE || hay[p + 1] !== QUOTE) continue;
    const next = hay[p + 2];
    if (next === undefined || next === QUOTE) continue;
    const close = p - 1;
    for (const k of keys) {
      const from = close - k.length;
      if (from < 0) continue;
      let j = 0;
      while (j < k.length && hay[from + j] === k[j]) j++;
      if (j === k.length) return true;
    }
  }
  return false;
}

/** Index just past the JSON string starting at `hay[at]` (a `"`), or -1 when it does not end. */
export function stringEnd(hay: Uint8Array, at: number): number {
  for (let i = at + 1; i < hay.length; i++) {
    const b = hay[i];
    if (b === BACKSLASH) i++;
    else if (b === QUOTE) return i + 1;
  }
  return -1;
}

/** Index just past the JSON object or array opening at `hay[at]`, or -1 when it does not close. */
export function valueEnd(hay: Uint8Array, at: number): number {
  let depth = 0;
  for (let i = at; i < hay.length; i++) {
    const b = hay[i];
    if (b === QUOTE) {
      const end = stringEnd(hay, i);
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
