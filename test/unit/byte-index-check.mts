/**
 * Run under Node by byte-index.test.ts: `indexOfByte` (src/proxy/byte-index.ts) calls Node's
 * `Buffer.prototype.indexOf` (a memchr) there, and answers as the typed array's own
 * `indexOf` over seeded random bytes, every start (past the end too) and bytes that are
 * absent, first, last or repeated. Prints what it saw as one JSON line.
 */
import { seededRandom } from "../../src/clock.ts";

const own = Buffer.prototype.indexOf;
let bufferCalls = 0;
Buffer.prototype.indexOf = function (this: Buffer, ...args: Parameters<typeof own>) {
  bufferCalls++;
  return own.apply(this, args);
};
const { indexOfByte } = await import("../../src/proxy/byte-index.ts");

const random = seededRandom(19);
let tried = 0;
let mismatches = 0;
const firstMismatch: unknown[] = [];
for (let run = 0; run < 300; run++) {
  const len = Math.floor(random() * 300);
  const bytes = new Uint8Array(len + 8);
  // A narrow alphabet, so every byte looked for is often there, often repeated, sometimes absent.
  for (let i = 0; i < bytes.length; i++) bytes[i] = [0x0a, 0x0d, 0x67, 0x22, 0x7b][Math.floor(random() * 5)]!;
  // A view with an offset, as the tap's chunks are (subarrays of a socket's buffer).
  const hay = bytes.subarray(4, 4 + len);
  for (const value of [0x0a, 0x0d, 0x67, 0x22, 0x7b, 0x00]) {
    for (let from = 0; from <= len + 2; from++) {
      tried++;
      const want = hay.indexOf(value, from);
      const got = indexOfByte(hay, value, from);
      if (got !== want) {
        mismatches++;
        if (firstMismatch.length === 0) firstMismatch.push({ len, value, from, want, got });
      }
    }
  }
}
console.log(JSON.stringify({ tried, mismatches, firstMismatch, usedBuffer: bufferCalls >= tried }));
