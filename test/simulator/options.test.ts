import { describe, expect, test } from "bun:test";
import { seededRandom } from "../../src/clock.ts";
import { jitterFactor, loadFactor, resolveOptions } from "../../src/simulator/options.ts";

describe("loadFactor", () => {
  test.each([
    [1, 5, 2, 1],
    [3, 5, 2, 1.5],
    [5, 5, 2, 2],
    [9, 5, 2, 2],
    [5, 5, 3, 3],
    [1, 1, 4, 1],
  ])("running=%p maxNumSeqs=%p timeFactorMax=%p -> %p", (running, maxNumSeqs, timeFactorMax, want) => {
    expect(loadFactor(running, { maxNumSeqs, timeFactorMax })).toBeCloseTo(want, 10);
  });
});

describe("jitterFactor", () => {
  test("0 disables jitter and draws nothing", () => {
    let draws = 0;
    expect(jitterFactor(0, () => draws++)).toBe(1);
    expect(draws).toBe(0);
  });

  test("is centred on 1 with the given spread, never negative", () => {
    const random = seededRandom(7);
    const xs = Array.from({ length: 4000 }, () => jitterFactor(0.1, random));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    expect(mean).toBeCloseTo(1, 1);
    expect(sd).toBeGreaterThan(0.08);
    expect(sd).toBeLessThan(0.12);
    expect(Math.min(...Array.from({ length: 1000 }, () => jitterFactor(5, random)))).toBe(0);
  });
});

describe("resolveOptions", () => {
  test("fills vLLM-like defaults", () => {
    const o = resolveOptions({ model: "m" });
    expect(o).toMatchObject({ maxNumSeqs: 5, maxLoras: 4, blockSize: 16, maxModelLen: 8192, jitter: 0.05 });
    expect(o).toMatchObject({ runner: "generate", embeddingSize: 384, maxStoredResponses: 1000 });
  });

  test.each([
    [{ maxNumSeqs: 0 }, "maxNumSeqs"],
    [{ blockSize: 1.5 }, "blockSize"],
    [{ timeScale: -1 }, "timeScale"],
    [{ timeFactorMax: 0.5 }, "timeFactorMax"],
    [{ loras: ["m"] }, "LoRA"],
    [{ runner: "embed" as "pooling" }, "runner"],
    [{ embeddingSize: 0 }, "embeddingSize"],
    [{ maxStoredResponses: -1 }, "maxStoredResponses"],
    [{ maxStoredResponses: 2.5 }, "maxStoredResponses"],
  ])("rejects %p naming the field", (bad, field) => {
    expect(() => resolveOptions({ model: "m", ...bad })).toThrow(field);
  });
});
