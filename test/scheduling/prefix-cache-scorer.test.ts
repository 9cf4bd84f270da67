import { describe, expect, test } from "bun:test";
import { commonBlockSize, prefixCacheScorer } from "../../plugins/prefix-cache-scorer.ts";
import { PrefixIndex } from "../../src/scheduling/prefix/prefix-index.ts";
import { asArray, context, endpoint, prompt, request } from "./helpers.ts";

const eps = [endpoint("a"), endpoint("b"), endpoint("c")];

function score(scorer: ReturnType<typeof prefixCacheScorer>, text: string, model = "m") {
  const ctx = context({ request: request({ model, prompt: text }) });
  return { ctx, scores: asArray(scorer.score(ctx, eps), eps) };
}

describe("prefix-cache-scorer: matched blocks / total blocks", () => {
  test("nothing known: 0 everywhere; after a pick the primary scores 1", () => {
    const index = new PrefixIndex();
    const scorer = prefixCacheScorer({ index });
    const text = prompt(1, 64 * 4);
    const first = score(scorer, text);
    expect(first.scores).toEqual([0, 0, 0]);
    scorer.preRequest(first.ctx, [eps[1]!, eps[0]!]);
    expect(score(scorer, text).scores).toEqual([0, 1, 0]);
  });

  test.each([
    { case: "same prompt", shared: 4, extra: 0, want: 1 },
    { case: "half the prompt shared", shared: 2, extra: 2, want: 0.5 },
    { case: "one of four blocks shared", shared: 1, extra: 3, want: 0.25 },
    { case: "no block shared", shared: 0, extra: 4, want: 0 },
  ])("$case -> $want", ({ shared, extra, want }) => {
    const index = new PrefixIndex();
    const scorer = prefixCacheScorer({ index });
    const base = prompt(2, 64 * 4);
    const seen = score(scorer, base);
    scorer.preRequest(seen.ctx, [eps[0]!]);
    const next = base.slice(0, 64 * shared) + prompt(3, 64 * extra);
    expect(score(scorer, next).scores[0]).toBe(want);
  });

  test("a prompt shorter than one block scores 0 and records nothing", () => {
    const index = new PrefixIndex();
    const scorer = prefixCacheScorer({ index });
    const s = score(scorer, "short");
    expect(s.scores).toEqual([0, 0, 0]);
    scorer.preRequest(s.ctx, [eps[0]!]);
    expect(index.size).toBe(0);
    expect(index.stats().lookups).toBe(0);
  });

  test("another model never matches", () => {
    const index = new PrefixIndex();
    const scorer = prefixCacheScorer({ index });
    const text = prompt(4, 64 * 2);
    const s = score(scorer, text, "m");
    scorer.preRequest(s.ctx, [eps[0]!]);
    expect(score(scorer, text, "other").scores).toEqual([0, 0, 0]);
  });

  test("records the primary's match in the hit ratio", () => {
    const index = new PrefixIndex();
    const scorer = prefixCacheScorer({ index });
    const text = prompt(5, 64 * 4);
    scorer.preRequest(score(scorer, text).ctx, [eps[0]!]); // 0 of 4
    scorer.preRequest(score(scorer, text).ctx, [eps[0]!]); // 4 of 4
    expect(index.stats()).toMatchObject({ lookups: 2, matchedBlocks: 4, totalBlocks: 8, hitRatio: 0.5 });
  });

  test.each([
    { case: "default: 16 tokens = 64 chars", params: {}, chars: 64 * 3, blocks: 3 },
    { case: "blockSize 32 tokens = 128 chars", params: { blockSize: 32 }, chars: 128 * 3, blocks: 3 },
    { case: "hashBlockSize in characters", params: { hashBlockSize: 10 }, chars: 100, blocks: 10 },
    { case: "maxPrefixBlocksToMatch caps", params: { maxPrefixBlocksToMatch: 2 }, chars: 64 * 5, blocks: 2 },
  ])("block geometry: $case", ({ params, chars, blocks }) => {
    const index = new PrefixIndex();
    const scorer = prefixCacheScorer({ index, params });
    scorer.preRequest(score(scorer, prompt(6, chars)).ctx, [eps[0]!]);
    expect(index.size).toBe(blocks);
  });

  test.each([
    { case: "nobody reports", sizes: [undefined, undefined], want: undefined },
    { case: "most common wins", sizes: [32, 16, 32], want: 32 },
    { case: "a tie picks the smaller", sizes: [32, 16], want: 16 },
    { case: "all the same", sizes: [64, 64, 64], want: 64 },
    { case: "the same but one reports nothing", sizes: [64, undefined, 64], want: 64 },
    { case: "the same but one reports 0", sizes: [0, 64, 0, 0], want: 64 },
    { case: "no endpoints", sizes: [], want: undefined },
  ])("commonBlockSize: $case", ({ sizes, want }) => {
    const list = sizes.map((b, i) =>
      endpoint(`e${i}`, b === undefined ? {} : { cache: { blockSize: b, numBlocks: 1000 } }),
    );
    expect(commonBlockSize(list)).toBe(want);
  });

  test("commonBlockSize: random mixes (some reporting nothing) agree with counting them all", () => {
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 500; round++) {
      const sizes = Array.from({ length: 1 + Math.floor(next() * 8) }, () => {
        const x = next();
        return x < 0.3 ? undefined : x < 0.4 ? 0 : x < 0.8 ? 16 : 32;
      });
      const counts = new Map<number, number>();
      for (const b of sizes) if (b !== undefined && b > 0) counts.set(b, (counts.get(b) ?? 0) + 1);
      let want: number | undefined;
      for (const [b, n] of counts)
        if (want === undefined || n > counts.get(want)! || (n === counts.get(want)! && b < want)) want = b;
      const list = sizes.map((b, i) =>
        endpoint(`e${i}`, b === undefined ? {} : { cache: { blockSize: b, numBlocks: 1000 } }),
      );
      expect(commonBlockSize(list)).toBe(want);
    }
  });

  test("autoTune uses the engines' block size, floored at 16 tokens", () => {
    const make = (blockSize: number) => [
      endpoint("x", { cache: { blockSize, numBlocks: 1000 } }),
      endpoint("y", { cache: { blockSize, numBlocks: 1000 } }),
    ];
    for (const [engineBlock, chars] of [
      [32, 128],
      [1, 64],
    ] as const) {
      const index = new PrefixIndex();
      const scorer = prefixCacheScorer({ index });
      const list = make(engineBlock);
      const ctx = context({ request: request({ prompt: prompt(7, chars * 2) }) });
      scorer.score(ctx, list);
      scorer.preRequest(ctx, [list[0]!]);
      expect(index.size).toBe(2);
    }
  });
});

describe("prefix-cache-scorer: bounded whatever clients send", () => {
  test("prompts longer than a small pod's KV: the distinctive-block statistics stay within the index", () => {
    // A pod reporting 4 KV blocks of 16 tokens holds 4 index entries; every prompt has 40
    // blocks, so each pick evicts 36 of its own blocks at once. Their statistics must go too.
    const index = new PrefixIndex();
    const scorer = prefixCacheScorer({ index });
    const small = [endpoint("tiny", { cache: { blockSize: 16, numBlocks: 4 } })];
    for (let i = 0; i < 300; i++) {
      const ctx = context({ request: request({ model: "m", prompt: prompt(10_000 + i, 64 * 40) }) });
      scorer.score(ctx, small);
      scorer.preRequest(ctx, small);
    }
    expect(index.size).toBeLessThanOrEqual(4);
    expect(index.prompts.size).toBeLessThanOrEqual(index.size);
  });
});
