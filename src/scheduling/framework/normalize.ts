/**
 * Min-max normalization where lower raw values are better:
 * score = (max - x) / (max - min) over the candidates; 1 for all when they are equal.
 * Writes into `out` (default: a new Float64Array; `values` itself when it is one the
 * caller owns), so a scorer allocates one typed array per call, nothing per endpoint.
 */
export function lowerIsBetter(
  values: ArrayLike<number>,
  out: Float64Array = new Float64Array(values.length),
): Float64Array {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  const n = values.length;
  for (let i = 0; i < n; i++) {
    const x = values[i]!;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const range = max - min;
  if (!(range > 0)) return out.fill(1, 0, n);
  for (let i = 0; i < n; i++) out[i] = (max - values[i]!) / range;
  return out;
}
