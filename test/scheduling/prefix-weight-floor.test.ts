import { describe, expect, test } from "bun:test";
import { PromptStatistics } from "../../src/scheduling/prefix/distinctive.ts";
import { PrefixIndex } from "../../src/scheduling/prefix/prefix-index.ts";

/**
 * A repeated prompt's distinctive block read from the least of its weights after its last
 * batch add (prefix-memos.ts `PlacedKeys.floor`, twelfth pass): weights only grow while the
 * prompt's placement holds, so a bar at or below that floor means every block is common.
 * A weight cleared or all divided (the statistics' rescale) must drop the floor: each test
 * gives a different block than the stale floor would.
 */

const chain = (base: number, n: number) => Array.from({ length: n }, (_, i) => base + i);

describe("the weight floor of the last prompt added", () => {
  test("a repeated all-common prompt answers its last block, as per-key weights do", () => {
    const index = new PrefixIndex();
    const standalone = new PromptStatistics(0.5, 4096);
    const a = chain(1, 16);
    index.record("p", a, 1000);
    for (let n = 0; n < 50; n++) {
      expect(index.prompts.distinctive(a)).toBe(standalone.distinctive(a));
      index.record("p", a, 1000);
      index.prompts.record(a);
      standalone.record(a);
    }
    expect(index.prompts.distinctive(a)).toBe(15);
  });

  test("a weight cleared after the add is read, not bounded", () => {
    const index = new PrefixIndex();
    const a = chain(1, 16);
    index.record("p", a, 1000);
    for (let n = 0; n < 5; n++) index.prompts.record(a);
    expect(index.prompts.distinctive(a)).toBe(15);
    index.prompts.forget(a[6]!); // the key stays held; its weight is gone
    expect(index.prompts.distinctive(a)).toBe(6);
  });

  test("weights divided by the rescale are read, not bounded", () => {
    const index = new PrefixIndex();
    const standalone = new PromptStatistics(0.5, 4096);
    const c = chain(100, 2);
    const a = chain(1, 4);
    index.record("p", c, 1000);
    index.record("p", a, 1000);
    // 64 half-lives of prompt c: the next prompt's weight passes 2^64 and rescales everything.
    for (let n = 0; n < 64 * 4096; n++) {
      index.prompts.record(c);
      standalone.record(c);
    }
    // a, once: light (one prompt among 262,145). Its add sets the floor at the old scale,
    // then the rescale divides every weight and the bar by ~2^64.
    index.prompts.record(a);
    standalone.record(a);
    expect(standalone.distinctive(a)).toBe(0);
    expect(index.prompts.distinctive(a)).toBe(0);
  });
});
