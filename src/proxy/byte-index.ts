/**
 * One byte looked for in a `Uint8Array`: `hay.indexOf(value, from)`, the same answer on
 * every runtime, made a memchr where the typed array's own is not one (issue 19, eleventh
 * pass). V8's `TypedArray.prototype.indexOf` is a loop behind a runtime call: under Node 20
 * 1.4-1.6 µs over a 4.3 KiB chunk (the framer's "any CR?" test of sse32's whole answer) and
 * ~57 ns for a short hop (one LF away), against 33 and 11 ns for Node's
 * `Buffer.prototype.indexOf`, which takes any `Uint8Array`. Bun's typed-array `indexOf` is
 * a memchr already and stays in use there (and where there is no Node `Buffer`: Workers,
 * Deno). The SSE tap makes ~3 such calls a frame (the framer's LF, the usage key's anchor).
 *
 * The same test as bytes.ts's `longIndexOf` (Node: `process.versions.node` and no `Bun`).
 */
type IndexOf = (this: Uint8Array, value: number, from: number) => number;

const nodeIndexOf: IndexOf | undefined =
  typeof (globalThis as { Bun?: unknown }).Bun === "undefined" &&
  typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === "string"
    ? (globalThis as { Buffer?: { prototype: { indexOf: IndexOf } } }).Buffer?.prototype.indexOf
    : undefined;

/** Index of the byte `value` in `hay` at or after `from` (0 ≤ from), or -1: `hay.indexOf(value, from)`. */
export const indexOfByte: (hay: Uint8Array, value: number, from: number) => number =
  nodeIndexOf === undefined
    ? (hay, value, from) => hay.indexOf(value, from)
    : (hay, value, from) => nodeIndexOf.call(hay, value, from);

/**
 * A byte sequence looked for in a `Uint8Array` by one native call, where the runtime's is fast:
 * Bun's `Buffer.prototype.indexOf` (it takes any Uint8Array; a memmem). Undefined elsewhere:
 * Node's costs more than a walk of single-byte hops over an SSE stream (issue 19, fifteenth
 * pass: 3.7 µs against ~0.3 over sse32's 4.3 KiB), and Workers and Deno have no `Buffer`.
 */
export const indexOfSequence: ((this: Uint8Array, needle: Uint8Array, from: number) => number) | undefined =
  typeof (globalThis as { Bun?: unknown }).Bun !== "undefined"
    ? (globalThis as { Buffer?: { prototype: { indexOf(needle: Uint8Array, from: number): number } } }).Buffer
        ?.prototype.indexOf
    : undefined;
