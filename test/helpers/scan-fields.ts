/**
 * The SSE tap's first frame scan (src/proxy/bytes.ts until issue 19's sixth pass), kept as
 * the reference `chunkFields` (src/proxy/frame-fields.ts) must agree with: one forward pass
 * over every byte of the frame.
 */
import { FIELD_OBJECT, FIELD_TEXT } from "../../src/proxy/frame-fields.ts";

const QUOTE = 0x22;
const COLON = 0x3a;

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
