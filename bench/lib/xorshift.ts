/** A seeded xorshift32: the same stream of 32-bit unsigned integers on every runtime. */
export function xorshift32(seed = 0x9e3779b9): () => number {
  let state = seed;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
}
