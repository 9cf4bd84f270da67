import { describe, expect, test } from "bun:test";
import { seededRandom } from "../../src/clock.ts";
import type { ApiKind } from "../../src/request.ts";
import { createContext } from "../../src/scheduling/framework/context.ts";
import { LoadTracker } from "../../src/scheduling/framework/load.ts";
import { hashPrefix } from "../../src/scheduling/prefix/hashes.ts";
import { promptParts, promptPrefix, promptText } from "../../src/scheduling/prefix/prompt.ts";
import { fixedClock } from "./helpers.ts";

const words = (r: () => number, n: number) =>
  Array.from({ length: n }, () => ["alpha", "βeta", "gamma😀", "delta", "\n"][Math.floor(r() * 5)]).join(" ");

/** Bodies of every API kind, with long and short parts, non-ASCII and JSON parts. */
function bodies(seed: number): [Record<string, unknown>, ApiKind | undefined][] {
  const r = seededRandom(seed);
  const long = () => words(r, 200 + Math.floor(r() * 3000));
  return [
    [
      {
        messages: [
          { role: "system", content: long() },
          { role: "user", content: long() },
        ],
      },
      "chat",
    ],
    [
      {
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: long() },
              { type: "image_url", image_url: { url: "u" } },
            ],
          },
          {
            role: "assistant",
            content: null,
            tool_calls: [{ id: "c", function: { name: "f", arguments: long() } }],
          },
        ],
      },
      "chat",
    ],
    [{ prompt: [long(), long()] }, "completions"],
    [
      {
        instructions: long(),
        input: [
          { role: "user", content: long() },
          { type: "function_call", x: 1 },
        ],
      },
      "responses",
    ],
    [{ system: long(), messages: [{ role: "user", content: long() }] }, "messages"],
    [{ input: [long(), long()] }, "embeddings"],
    [{ messages: [{ role: "user", content: long() }] }, undefined],
  ];
}

describe("promptPrefix: the head of promptText and its length, without the whole text", () => {
  test.each([1, 2, 3])("every API kind, limits around part boundaries (seed %d)", (seed) => {
    for (const [body, kind] of bodies(seed)) {
      const full = promptText(body, kind);
      for (const limit of [0, 1, 63, 64, 1000, 16_384, full.length - 1, full.length, full.length + 5]) {
        const p = promptPrefix(body, kind, limit);
        expect(p.length).toBe(full.length);
        expect(p.text).toBe(full.slice(0, limit));
        expect(promptText(body, kind, limit)).toBe(full.slice(0, limit));
        expect(promptParts(body, kind, limit).parts.join("")).toBe(full.slice(0, limit));
      }
    }
  });

  test("the context hashes the window alone and gives the whole prompt's length", () => {
    for (const [body, kind] of bodies(7)) {
      const request = { requestId: "r", targetModel: "m", body, headers: new Headers(), kind };
      const ctx = createContext({
        request,
        clock: fixedClock(),
        inflight: { get: () => 0 },
        loads: new LoadTracker(),
      });
      const full = promptText(body, kind);
      expect(ctx.promptLength()).toBe(full.length);
      for (const [blockChars, maxBlocks] of [
        [64, 256],
        [64, 2000],
        [16, 8],
      ] as const) {
        const want = hashPrefix(full, { model: "m", blockChars, maxBlocks });
        const got = ctx.prefixHashes(blockChars, maxBlocks);
        expect(got.count).toBe(want.count);
        expect([...got.keys]).toEqual([...want.keys]);
      }
      expect(ctx.promptText()).toBe(full);
    }
  });
});

describe("hashPrefix over parts: the hashes of the parts joined", () => {
  test("random splits, empty parts, non-ASCII and surrogate pairs cut at part and block edges", () => {
    const r = seededRandom(11);
    for (let trial = 0; trial < 200; trial++) {
      const text = words(r, 20 + Math.floor(r() * 400));
      const parts: string[] = [];
      for (let at = 0; at < text.length; ) {
        const n = Math.floor(r() * 150);
        parts.push(text.slice(at, at + n)); // may split a surrogate pair, may be empty
        at += n;
      }
      for (const blockChars of [1, 7, 64]) {
        const opts = { model: "m", blockChars, maxBlocks: 1 + Math.floor(r() * 300) };
        const want = hashPrefix(text, opts);
        const got = hashPrefix(parts, opts);
        expect(got.count).toBe(want.count);
        expect([...got.words]).toEqual([...want.words]);
      }
    }
  });
});
