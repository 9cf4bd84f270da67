/**
 * What a large request body costs the gateway, step by step, in isolation (Bun or Node): the
 * decode and parse every request pays, and what the pod's copy costs when the body changes
 * (a renamed model, a stream asked for usage): re-serialising the parsed body, as before,
 * against splicing into the client's bytes (spliceRequestBody). Best of 7 batches, µs per
 * operation, for a 30 KiB chat body like the overhead benchmark's.
 *
 *   bun bench/overhead/body-micro.ts        node --experimental-strip-types is not enough
 *                                           (imports .ts): bundle it with bun build first.
 */
import { spliceRequestBody } from "../../src/proxy/model-field.ts";
import { bestNsPerCall } from "./best-of.ts";
import { bigBody } from "./bodies.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const body = bigBody(30 * 1024);
const bytes = encoder.encode(JSON.stringify(body));
const parsed = JSON.parse(decoder.decode(bytes)) as Record<string, unknown>;
const USAGE = encoder.encode('{"stream_options":{"include_usage":true},');
const blob = new Blob([bytes]);

const items: [string, () => unknown][] = [
  ["decode (TextDecoder)", () => decoder.decode(bytes)],
  ["JSON.parse of the decoded string", () => JSON.parse(decoder.decode(bytes))],
  [
    "renamed, re-serialised: JSON.stringify + encode",
    () => encoder.encode(JSON.stringify({ ...parsed, model: "n" })),
  ],
  ["renamed, spliced (spliceRequestBody)", () => spliceRequestBody(bytes, "n", undefined)],
  ["renamed + usage, spliced", () => spliceRequestBody(bytes, "n", USAGE)],
  ["usage only, spliced (prefix, one copy)", () => spliceRequestBody(bytes, undefined, USAGE)],
  ["copy of the bytes (slice)", () => bytes.slice()],
];
if (typeof Bun !== "undefined") items.push(["Blob.bytes() (a copy)", () => blob.bytes()]);

const lines = [
  `body: ${bytes.length} bytes, ${typeof Bun !== "undefined" ? `bun ${Bun.version}` : `node ${process.version}`}`,
];
for (const [name, fn] of items) {
  const us = bestNsPerCall(fn) / 1e3;
  lines.push(`${us.toFixed(2).padStart(8)} µs  ${name}`);
}
console.log(lines.join("\n"));
