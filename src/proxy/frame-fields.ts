/**
 * What the SSE tap needs from one OpenAI chunk frame, `hay[from, to)`: whether it holds a
 * generated-text field with a non-empty string value (`"content":"x`, FIELD_TEXT) and
 * whether it holds a usage object (`"usage":{`, FIELD_OBJECT). The same answer as
 * `scanFields` (its first form, kept in test/helpers/scan-fields.ts) with the tap's keys, found another way (issue 19, sixth pass):
 *
 * - the usage object with the native byte search (`usageObject`, anchored on the key's
 *   `g`: two calls for a chat chunk), not a JS loop over every byte;
 * - the text field from the frame's end backwards, stopping at the first found: vLLM puts
 *   `delta.content` near the end of a chunk (only `logprobs` and `finish_reason` after
 *   it), so a token frame's loop runs over ~45 bytes instead of all ~170.
 *
 * Existence does not depend on the order of the scan, so the answer is the same; a frame
 * with no text (role, finish, usage) is scanned whole, as before. Bun: 172-196 → 95-107 ns
 * per token frame, a usage frame 180 → 270 (one a stream).
 *
 * The backward scan looks at every second or third byte, not every one (issue 19, thirteenth
 * pass): a byte that is neither a quote nor a colon cannot be in any `":"` around it. Over
 * the benchmark's 24-frame stream 3.9-4.6 → 2.8-3.4 µs a stream under Node 20 (15 of 15
 * alternating batches lower), 3.5 → 2.3 under Bun (14 of 15): bench/overhead/node-fields-micro.ts.
 */
import { indexOfByte, indexOfSequence } from "./byte-index.ts";
import { pattern } from "./bytes.ts";

/** chunkFields found a field named by one of the text keys, with a non-empty string value. */
export const FIELD_TEXT = 1;
/** chunkFields found the usage key followed by an object: `"usage":{`. */
export const FIELD_OBJECT = 2;

const QUOTE = 0x22;
const COLON = 0x3a;
/** OpenAI chunk fields that carry generated text (chat deltas, completions, reasoning), with their opening quote. */
const TEXT_KEYS = ['"content', '"text', '"reasoning_content', '"reasoning'].map(pattern);
const USAGE_OBJECT = pattern('"usage":{');
/** The byte of USAGE_OBJECT the search anchors on, and its index: the `g`. */
const ANCHOR_AT = 4;
const ANCHOR = USAGE_OBJECT[ANCHOR_AT]!;
/** USAGE_OBJECT's bytes after its anchor. */
const AFTER_ANCHOR = USAGE_OBJECT.length - ANCHOR_AT;

/** True when `hay[at - key.length, at)` is `key`, all of it at or after `from`. */
function endsWith(hay: Uint8Array, at: number, key: Uint8Array, from: number): boolean {
  const start = at - key.length;
  if (start < from) return false;
  for (let j = 0; j < key.length; j++) if (hay[start + j] !== key[j]) return false;
  return true;
}

/**
 * Whether `"usage":{` lies whole in `hay[from, to)`: `indexOfBytes(hay, USAGE_OBJECT, from,
 * to) !== -1`, anchored on the key's `g` instead of the `{` (a chat chunk has three `{`
 * and one `g`, in `logprobs`: two native searches a frame instead of four; ninth pass).
 */
export function usageObject(hay: Uint8Array, from: number, to: number): boolean {
  return usageFrom(hay, from, to) !== -1;
}

/** Where the first `"usage":{` lying whole in `hay[from, to)` starts, or -1: the walk from one key's `g` to the next. */
function usageFrom(hay: Uint8Array, from: number, to: number): number {
  const last = to - AFTER_ANCHOR; // the anchor of a match that ends by `to`
  for (
    let at = indexOfByte(hay, ANCHOR, from + ANCHOR_AT);
    at !== -1 && at <= last;
    at = indexOfByte(hay, ANCHOR, at + 1)
  ) {
    const start = at - ANCHOR_AT;
    let j = 0;
    while (j < USAGE_OBJECT.length && hay[start + j] === USAGE_OBJECT[j]) j++;
    if (j === USAGE_OBJECT.length) return start;
  }
  return -1;
}

/** FIELD_TEXT | FIELD_OBJECT as found in the chunk frame `hay[from, to)` (see the module's note). */
export function chunkFields(hay: Uint8Array, from: number, to: number): number {
  // scanFields looks at a `"key":` whose colon is before `to - 2` and its value's first byte after it.
  const found = usageObject(hay, from, to - 1) ? FIELD_OBJECT : 0;
  return textField(hay, from, to) ? found | FIELD_TEXT : found;
}

/**
 * Whether the chunk frame `hay[from, to)` holds a text field with a non-empty string value
 * (chunkFields' FIELD_TEXT alone: for a caller that found the usage objects of a whole
 * stream at once, SseAccounting.whole).
 */
export function textField(hay: Uint8Array, from: number, to: number): boolean {
  // A non-empty string value: `"key":"` then a byte that is not its closing quote. The
  // window `hay[s, s + 3)` is `":"` for a colon at s + 1, tried from the end backwards; its
  // first byte says how far the next window can be (a reverse Horspool over a 3-byte pattern):
  // a byte that is neither a quote nor a colon lies in no window, a colon only in the middle of
  // the one a byte before, a quote only at the end of the one two bytes before.
  for (let s = to - 4; s >= from; ) {
    const b = hay[s];
    if (b === QUOTE) {
      if (hay[s + 1] === COLON && hay[s + 2] === QUOTE && hay[s + 3] !== QUOTE)
        for (const k of TEXT_KEYS) if (endsWith(hay, s, k, from)) return true;
      s -= 2;
    } else s -= b === COLON ? 1 : 3;
  }
  return false;
}

/**
 * Where the next `"usage":{` starts in `hay` at or after `from`, or -1: for a whole stream,
 * whose frames then need no search of their own (issue 19, fifteenth pass). Bun: one native
 * search of the sequence over the rest of `hay` (~0.15 µs over sse32's 4.3 KiB); elsewhere
 * the walk from one key's `g` to the next, as `usageObject` (Node's sequence search costs
 * 3.7 µs over the same bytes: `"` is too common a first byte for it; one byte hop ~11 ns).
 */
export function nextUsageObject(hay: Uint8Array, from: number): number {
  if (indexOfSequence !== undefined) return indexOfSequence.call(hay, USAGE_OBJECT, from);
  return usageFrom(hay, from, hay.length);
}
