/**
 * The simulator's tokenizer, behind /tokenize and /detokenize. It follows the rule every
 * token count of the simulator uses (prefix-cache.ts: one token per 4 UTF-16 code units,
 * so `encode(text).length === countTokens(text)` for any non-empty text), so what a client
 * tokenizes is what the pod bills and caches.
 *
 * Ids: a piece of 1-4 ASCII characters maps to one id and back (base-128 digits after an
 * offset per length, ids below ASCII_IDS); any other piece maps to a hashed id above that,
 * remembered (bounded) so the pod that tokenized it can detokenize it; an id it does not
 * remember decodes to U+FFFD, as a byte-level tokenizer shows a partial character.
 */
import { CHARS_PER_TOKEN, hash53 } from "./prefix-cache.ts";

const OFFSETS = [0, 128, 128 + 128 ** 2, 128 + 128 ** 2 + 128 ** 3];
/** Ids below this are ASCII pieces, decodable anywhere. */
export const ASCII_IDS = OFFSETS[3]! + 128 ** 4;
const HASHED_IDS = 2 ** 24;
/** Every id the tokenizer produces is below this (vLLM would call it the vocabulary size). */
export const VOCAB_SIZE = ASCII_IDS + HASHED_IDS;
const REMEMBERED = 65_536;

export class Tokenizer {
  private readonly pieces = new Map<number, string>();

  /** Token pieces of `text` (the last may be shorter than 4 characters). */
  static pieces(text: string): string[] {
    const out: string[] = [];
    for (let i = 0; i < text.length; i += CHARS_PER_TOKEN) out.push(text.slice(i, i + CHARS_PER_TOKEN));
    return out;
  }

  encode(text: string): number[] {
    return Tokenizer.pieces(text).map((p) => this.id(p));
  }

  /** Text of `ids`; an unknown hashed id is U+FFFD. Throws RangeError for an id outside the vocabulary. */
  decode(ids: readonly number[]): string {
    let text = "";
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= VOCAB_SIZE) throw new RangeError(`token id ${id}`);
      text += id < ASCII_IDS ? asciiPiece(id) : (this.pieces.get(id) ?? "\uFFFD");
    }
    return text;
  }

  private id(piece: string): number {
    let packed = 0;
    for (let i = piece.length - 1; i >= 0; i--) {
      const c = piece.charCodeAt(i);
      if (c >= 128) return this.hashed(piece);
      packed = packed * 128 + c;
    }
    return OFFSETS[piece.length - 1]! + packed;
  }

  private hashed(piece: string): number {
    const id = ASCII_IDS + (hash53(piece) % HASHED_IDS);
    this.pieces.delete(id);
    this.pieces.set(id, piece);
    if (this.pieces.size > REMEMBERED) this.pieces.delete(this.pieces.keys().next().value as number);
    return id;
  }
}

function asciiPiece(id: number): string {
  let len = 1;
  while (len < 4 && id >= OFFSETS[len]!) len++;
  let packed = id - OFFSETS[len - 1]!;
  let piece = "";
  for (let i = 0; i < len; i++) {
    piece += String.fromCharCode(packed % 128);
    packed = Math.floor(packed / 128);
  }
  return piece;
}
