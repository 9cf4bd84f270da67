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

/** scanFields found a field named by one of the text keys, with a non-empty string value. */
export const FIELD_TEXT = 1;
/** scanFields found the object key followed by an object: `"name":{`. */
export const FIELD_OBJECT = 2;

/** True when `hay[at - key.length, at)` is `key`, all of it at or after `from`. */
function endsWith(hay: Uint8Array, at: number, key: Uint8Array, from: number): boolean {
  const start = at - key.length;
  if (start < from) return false;
  for (let j = 0; j < key.length; j++) if (hay[start + j] !== key[j]) return false;
  return true;
}

/**
 * One pass over `hay[from, to)` for what the answer path needs from a JSON frame: a string
 * field named by one of `textKeys` whose value is not empty (`"name":"x...`, FIELD_TEXT)
 * and `objectKey` holding an object (`"name":{`, FIELD_OBJECT); keys are given with their
 * opening quote. A plain loop over the bytes: the frames are small, and one native
 * `indexOf` call per `:` cost more than the loop (Bun: 229 → 122 ns per chat chunk).
 */
export function scanFields(
  hay: Uint8Array,
  from: number,
  to: number,
  textKeys: readonly Uint8Array[],
  objectKey: Uint8Array,
): number {
  let found = 0;
  const last = to - 2;
  for (let p = from + 1; p < last; p++) {
    if (hay[p] !== COLON || hay[p - 1] !== QUOTE) continue;
    const v = hay[p + 1];
    if (v === QUOTE) {
      if (found & FIELD_TEXT || hay[p + 2] === QUOTE) continue;
      for (const k of textKeys)
        if (endsWith(hay, p - 1, k, from)) {
          found |= FIELD_TEXT;
          break;
        }
    } else if (v === 0x7b && !(found & FIELD_OBJECT) && endsWith(hay, p - 1, objectKey, from))
      found |= FIELD_OBJECT;
    else continue;
    if (found === (FIELD_TEXT | FIELD_OBJECT)) break;
  }
  return found;
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
