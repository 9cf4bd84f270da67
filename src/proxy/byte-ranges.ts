/**
 * Ranges cut out of a byte array: the frames a whole stream's tap drops (SseAccounting.whole).
 * A range list is `[start, end)` pairs, in order, not overlapping.
 */

/** A kept run at most this long is copied by a loop, not through a view. */
const SHORT_RUN = 64;

/** `cut` with `[start, end)` added (made at its first range). */
export function cutOut(cut: number[] | undefined, start: number, end: number): number[] {
  if (cut === undefined) return [start, end];
  cut.push(start, end);
  return cut;
}

/**
 * `bytes` without the ranges `cut`. `inPlace`: `bytes` are the caller's alone, so the runs after
 * the first range move down over it and the answer is a view of `bytes`' start, with no new
 * array (issue 19, sixteenth pass); otherwise one new array. A short run (the `[DONE]` after a
 * dropped usage frame) is copied by a loop, a longer one natively.
 */
export function withoutRanges(bytes: Uint8Array, cut: readonly number[], inPlace: boolean): Uint8Array {
  let size = bytes.length;
  for (let k = 0; k < cut.length; k += 2) size -= cut[k + 1]! - cut[k]!;
  const out = inPlace ? bytes : new Uint8Array(size);
  // In place, the run before the first range is already where it belongs.
  let w = inPlace ? cut[0]! : 0;
  for (let k = inPlace ? 2 : 0, from = inPlace ? cut[1]! : 0; k <= cut.length; k += 2) {
    const to = k < cut.length ? cut[k]! : bytes.length;
    if (to - from <= SHORT_RUN) for (let j = from; j < to; j++) out[w++] = bytes[j]!;
    else {
      if (inPlace) bytes.copyWithin(w, from, to);
      else out.set(bytes.subarray(from, to), w);
      w += to - from;
    }
    if (k < cut.length) from = cut[k + 1]!;
  }
  return inPlace ? bytes.subarray(0, w) : out;
}
