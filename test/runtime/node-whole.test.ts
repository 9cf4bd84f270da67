import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

// Issue 19, thirteenth pass: under Node (undici's own parser), a stream the pod sent at once is
// handed over whole by Node's pod client when the attempt answers such streams as bytes.
test("Node's pod client hands a stream sent at once over whole; a paced one, or one not asked for, is read", () => {
  const script = fileURLToPath(new URL("./node-whole-check.mts", import.meta.url));
  const run = spawnSync("node", ["--import", "tsx", script], { encoding: "utf8", timeout: 30_000 });
  expect(run.stderr).toBe("");
  const out = JSON.parse(run.stdout.trim().split("\n").at(-1)!);
  const whole = { whole: true, body: false };
  expect(out.length).toEqual(Array.from({ length: 8 }, () => whole));
  expect(out.chunked).toEqual(Array.from({ length: 8 }, () => whole));
  const frames = Array.from({ length: 20 }, (_, i) => `data: {"n":${i}}\n\n`);
  expect(out.notAsked).toEqual({ whole: false, read: `${frames.join("")}data: [DONE]\n\n` });
  expect(out.paced).toEqual({ whole: false, read: frames.slice(0, 3).join("") });
}, 40_000);
