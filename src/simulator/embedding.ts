/**
 * Deterministic embeddings of a simulated pooling model: each lower-cased word of the input
 * stands for a dense pseudo-random vector (components uniform in [-1, 1], drawn from a
 * generator seeded by the word's hash); the input's vector is their sum, normalised to a
 * unit vector. Equal inputs give equal vectors, inputs that share words point the same way
 * and unrelated ones are nearly orthogonal, so score and rerank (cosine similarity) rank
 * like a real model would on lexical overlap. `dimensions` keeps the first n components and
 * normalises again, as Matryoshka models do.
 */
import { seededRandom } from "../clock.ts";
import { hash53 } from "./prefix-cache.ts";

const WORD = /[\p{L}\p{N}]+/gu;

/** A unit vector of `size` components for `text`. */
export function embed(text: string, size: number): number[] {
  const v = new Array<number>(size).fill(0);
  const words = text.toLowerCase().match(WORD) ?? [text];
  for (const word of words) {
    const next = seededRandom(hash53(word, 7));
    for (let i = 0; i < size; i++) v[i]! += next() * 2 - 1;
  }
  return normalise(v);
}

/** The first `dimensions` components, normalised (Matryoshka truncation). */
export function truncate(v: readonly number[], dimensions: number): number[] {
  return normalise(v.slice(0, dimensions));
}

function normalise(v: number[]): number[] {
  let sum = 0;
  for (const x of v) sum += x * x;
  const norm = Math.sqrt(sum);
  if (norm === 0) return v.map((_, i) => (i === 0 ? 1 : 0));
  return v.map((x) => x / norm);
}

/** Cosine similarity of two unit vectors, clamped to [0, 1] like a relevance probability. */
export function relevance(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return Math.min(1, Math.max(0, dot));
}

/** Little-endian float32 bytes in base64: OpenAI's `encoding_format: "base64"`. */
export function toBase64(v: readonly number[]): string {
  const bytes = new Uint8Array(new Float32Array(v).buffer);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}
