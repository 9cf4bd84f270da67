/**
 * The built-in simulator's tokenizer (src/simulator/tokenizer.ts: one token per 4
 * characters, ids as its /tokenize route gives them), run by the gateway itself. The
 * simulator's BlockStored events carry these ids, so a gateway in front of simulated pods
 * maps a prompt to exactly the keys the pods report without asking them.
 *
 * A real vLLM pod reports its model's token ids (BPE, SentencePiece, ...): use
 * `tokenizer.source: pods` there (pod-tokens.ts), which learns them from the pods.
 */
import { Tokenizer } from "../simulator/tokenizer.ts";

let shared: Tokenizer | undefined;

export function charTokens(text: string): Uint32Array {
  shared ??= new Tokenizer();
  return Uint32Array.from(shared.encode(text));
}
