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
import { acceptsChat } from "../../src/openai/fast-accept.ts";
import { spliceRequestBody } from "../../src/proxy/model-field.ts";
import { DEFAULT_BLOCK_CHARS, DEFAULT_MAX_BLOCKS, hashPrefix } from "../../src/scheduling/prefix/hashes.ts";
import { PrefixIndex } from "../../src/scheduling/prefix/prefix-index.ts";
import { promptParts } from "../../src/scheduling/prefix/prompt.ts";
import { bestNsPerCall } from "./best-of.ts";
import { bigBody } from "./bodies.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const body = bigBody(30 * 1024);
const bytes = encoder.encode(JSON.stringify(body));
const parsed = JSON.parse(decoder.decode(bytes)) as Record<string, unknown>;
const USAGE = encoder.encode('{"stream_options":{"include_usage":true},');
const blob = new Blob([bytes]);

// One request's steps, as the gateway runs them for the benchmark's body (the same prompt every
// time: the index already holds it on the endpoint the pick goes to, 4 endpoints).
const WINDOW = DEFAULT_BLOCK_CHARS * DEFAULT_MAX_BLOCKS;
const hashOpts = { model: "m", blockChars: DEFAULT_BLOCK_CHARS, maxBlocks: DEFAULT_MAX_BLOCKS };
const parts = promptParts(parsed, "chat", WINDOW).parts;
// The same prompt from two parses (equal strings, not the same ones), as requests bring it.
const twins = [parts, promptParts(JSON.parse(decoder.decode(bytes)), "chat", WINDOW).parts];
let twin = 0;
const content = body.messages[0]!.content;
const other = promptParts(
  { ...body, messages: [{ role: "user", content: `X${content.slice(1)}` }] },
  "chat",
  WINDOW,
).parts;
const keys = hashPrefix(parts, hashOpts).keys;
const index = new PrefixIndex();
for (const ep of ["a", "b", "c", "d"]) index.record(ep, keys.slice(0, 8));
index.record("a", keys);
for (let i = 0; i < 100; i++) index.prompts.record(keys);
/** A pod request's head, as the wire client writes it before the body (bun-wire.ts). */
const HEAD = encoder.encode(
  `POST /v1/chat/completions HTTP/1.1\r\ncontent-type: application/json\r\nx-request-id: 0123456789abcdef0123\r\nhost: 127.0.0.1:8001\r\ncontent-length: ${bytes.byteLength}\r\n\r\n`,
);
const SCRATCH = new Uint8Array(64 * 1024);
/** Socket chunks of the body as Node hands them (64 KiB reads, here 16 KiB pieces of one buffer). */
const socket = Buffer.from(bytes);
const chunks = [socket.subarray(0, 16384), socket.subarray(16384)];

const items: [string, () => unknown][] = [
  [
    "step: read body, Node chunks concatenated (node-request readWhole)",
    () => {
      const out = new Uint8Array(socket.length);
      let at = 0;
      for (const c of chunks) {
        out.set(c, at);
        at += c.byteLength;
      }
      return out.buffer;
    },
  ],
  ["step: validate (acceptsChat)", () => acceptsChat(parsed)],
  ["step: prompt parts (promptParts, 16 KiB window)", () => promptParts(parsed, "chat", WINDOW)],
  [
    "step: hash 256 blocks, the same prompt again (hashPrefix)",
    () => hashPrefix(twins[twin++ & 1]!, hashOpts),
  ],
  [
    "step: hash 256 blocks, two prompts in turn (no reuse)",
    () => hashPrefix(twin++ & 1 ? parts : other, hashOpts),
  ],
  ["step: match in the index (matchLengths)", () => index.matchLengths(keys)],
  ["step: distinctive block (prompts.distinctive)", () => index.prompts.distinctive(keys)],
  ["step: record, prompt already held (record)", () => index.record("a", keys)],
  ["step: prompt statistics (prompts.record)", () => index.prompts.record(keys)],
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
  [
    "wire write's buffer: head + body into a fresh buffer",
    () => {
      const out = Buffer.allocUnsafe(HEAD.byteLength + bytes.byteLength);
      out.set(HEAD, 0);
      out.set(bytes, HEAD.byteLength);
      return out;
    },
  ],
  [
    "wire write's buffer: head + body into the reused scratch (now)",
    () => {
      SCRATCH.set(HEAD, 0);
      SCRATCH.set(bytes, HEAD.byteLength);
      return SCRATCH;
    },
  ],
];
if (typeof Bun !== "undefined") {
  items.push(["Blob.bytes() (a copy)", () => blob.bytes()]);
  // Parsing the bytes without a decoded string (seventh pass: measured end to end, not kept).
  const jsonl = (Bun as unknown as { JSONL: { parseChunk(b: Uint8Array): unknown } }).JSONL;
  items.push(["Bun.JSONL.parseChunk of the bytes (no decoded string)", () => jsonl.parseChunk(bytes)]);
}

const lines = [
  `body: ${bytes.length} bytes, ${typeof Bun !== "undefined" ? `bun ${Bun.version}` : `node ${process.version}`}`,
];
for (const [name, fn] of items) {
  const us = bestNsPerCall(fn) / 1e3;
  lines.push(`${us.toFixed(2).padStart(8)} µs  ${name}`);
}
console.log(lines.join("\n"));
