/**
 * The tokenizer of the built-in simulator, which the gateway can run itself: one token
 * per `charsPerToken` characters (4, the simulator's rule), the token id a 31-bit hash of
 * those characters. The simulator's BlockStored events carry these ids, so a gateway in
 * front of simulated pods maps a prompt to exactly the keys the pods report.
 *
 * A real vLLM pod reports its model's token ids (BPE, SentencePiece, ...); matching them
 * needs that model's tokenizer (see docs/precise-prefix.md for what this gateway does).
 */
export function charTokens(text: string, charsPerToken = 4): Uint32Array {
  const n = Math.ceil(text.length / charsPerToken);
  const out = new Uint32Array(n);
  for (let t = 0; t < n; t++) {
    let h = 0x811c9dc5;
    const end = Math.min(text.length, (t + 1) * charsPerToken);
    for (let i = t * charsPerToken; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
    out[t] = (h >>> 1) & 0x7fffffff;
  }
  return out;
}
