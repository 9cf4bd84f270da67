import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { seededRandom } from "../../src/clock.ts";
import { indexOfByte } from "../../src/proxy/byte-index.ts";

// Under Node the SSE tap's byte search is Buffer's memchr (V8's typed-array indexOf is a loop).
test("under Node, indexOfByte calls Buffer's indexOf and answers as the typed array's indexOf", () => {
  const script = fileURLToPath(new URL("./byte-index-check.mts", import.meta.url));
  const run = spawnSync("node", ["--import", "tsx", script], { encoding: "utf8", timeout: 30_000 });
  expect(run.stderr).toBe("");
  const out = JSON.parse(run.stdout.trim().split("\n").at(-1)!);
  expect(out.tried).toBeGreaterThan(100_000);
  expect(out).toMatchObject({ mismatches: 0, firstMismatch: [], usedBuffer: true });
});

test("under Bun, indexOfByte answers as the typed array's indexOf", () => {
  const random = seededRandom(7);
  for (let run = 0; run < 100; run++) {
    const len = Math.floor(random() * 200);
    const hay = new Uint8Array(len + 4).subarray(2, 2 + len);
    for (let i = 0; i < len; i++) hay[i] = [0x0a, 0x0d, 0x67][Math.floor(random() * 3)]!;
    for (const value of [0x0a, 0x0d, 0x67, 0x00])
      for (let from = 0; from <= len + 1; from++)
        expect(indexOfByte(hay, value, from)).toBe(hay.indexOf(value, from));
  }
});
