import { describe, expect, test } from "bun:test";
import { PromptStatistics } from "../../src/scheduling/prefix/distinctive.ts";

/** A chain of block keys: `shared` blocks common to every prompt, then `own` blocks of prompt `id`. */
const chain = (id: number, own: number, shared = 0) => [
  ...Array.from({ length: shared }, (_, i) => 1_000_000 + i),
  ...Array.from({ length: own }, (_, i) => id * 1000 + i),
];

describe("the distinctive block: the first block most prompts do not share", () => {
  test("nothing seen: block 0", () => {
    expect(new PromptStatistics().distinctive(chain(1, 5))).toBe(0);
  });

  test("a preamble every prompt shares is skipped: the key is the group's own first block", () => {
    const s = new PromptStatistics();
    for (let g = 0; g < 6; g++) s.record(chain(g, 10, 8));
    expect(s.distinctive(chain(7, 10, 8))).toBe(8);
    expect(s.distinctive(chain(3, 10, 8))).toBe(8); // a known group: its own first block too
  });

  test("a block only one earlier prompt had is not common, however few prompts were seen", () => {
    const s = new PromptStatistics();
    s.record([...chain(1, 6), 77]); // group 1, question 77
    s.record(chain(2, 6)); // group 2
    // Group 1 again with another question: 1 of 2 prompts is half, but one prompt is no majority.
    expect(s.distinctive([...chain(1, 6), 78])).toBe(0);
  });

  test("prompts that share nothing: block 0", () => {
    const s = new PromptStatistics();
    for (let i = 0; i < 50; i++) s.record(chain(i, 4));
    expect(s.distinctive(chain(99, 4))).toBe(0);
  });

  test("one group among many stays distinctive at its first block", () => {
    const s = new PromptStatistics();
    for (let i = 0; i < 240; i++) s.record([...chain(i % 24, 5, 2), 500_000 + i]);
    expect(s.distinctive([...chain(5, 5, 2), 999_999])).toBe(2);
  });

  test("statistics follow the workload: a preamble no longer sent stops being common", () => {
    const s = new PromptStatistics(0.5, 64);
    for (let g = 0; g < 20; g++) s.record(chain(g, 4, 3));
    expect(s.distinctive(chain(50, 4, 3))).toBe(3);
    for (let i = 0; i < 2000; i++) s.record(chain(100 + i, 4));
    expect(s.distinctive(chain(51, 4, 3))).toBe(0);
  });

  test("weights are rescaled without changing the shares", () => {
    const s = new PromptStatistics(0.5, 1); // the weight doubles every prompt: rescaled every 64
    for (let i = 0; i < 300; i++) s.record(chain(i, 3, 2));
    expect(s.distinctive(chain(900, 3, 2))).toBe(2);
  });

  test("forget drops a block's statistics", () => {
    const s = new PromptStatistics();
    for (let g = 0; g < 4; g++) s.record(chain(g, 2, 1));
    expect(s.distinctive(chain(9, 2, 1))).toBe(1);
    s.forget(1_000_000);
    expect(s.distinctive(chain(9, 2, 1))).toBe(0);
    expect(s.size).toBe(8);
  });
});
