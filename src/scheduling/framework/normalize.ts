/**
 * Min-max normalization where lower raw values are better:
 * score = (max - x) / (max - min) over the candidates; 1 for all when they are equal.
 */
export function lowerIsBetter(values: readonly number[]): number[] {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const x of values) {
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const range = max - min;
  if (!(range > 0)) return values.map(() => 1);
  return values.map((x) => (max - x) / range);
}
