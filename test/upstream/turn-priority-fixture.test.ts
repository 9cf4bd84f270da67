/**
 * Fixture 22 (llm-d's turn-priority fairness guide) is refused today for `agent-identity`
 * alone: this holds the rest of it to loading and serving, so `program-aware-fairness`
 * with `strategy: turn-priority` is known to work through the real stack.
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import OpenAI from "openai";
import { ConfigError } from "../../src/config/errors.ts";
import { MODEL, type Running, start } from "./stack.ts";

const FILE = join(
  import.meta.dir,
  "../../../shared/upstream-configs/22-llmd-guide-turn-priority-fairness.yaml",
);
const running: Running[] = [];
afterAll(async () => {
  await Promise.all(running.map((s) => s.close()));
});

if (!existsSync(FILE)) test.skip(`fixture 22: skipped, ${FILE} is absent`, () => {});
else {
  const text = readFileSync(FILE, "utf8");
  const withoutAgentIdentity = text.replace(/^- type: agent-identity\n/m, "");

  test("fixture 22 without agent-identity loads and serves sessions by fairness id", async () => {
    expect(withoutAgentIdentity).not.toBe(text);
    const stack = await start(withoutAgentIdentity);
    running.push(stack);
    for (const session of ["session-a", "session-b"]) {
      const client = new OpenAI({
        baseURL: `${stack.url}/v1`,
        apiKey: "unused",
        maxRetries: 0,
        defaultHeaders: { "x-gateway-inference-fairness-id": session },
      });
      const res = await client.chat.completions.create({
        model: MODEL,
        messages: [{ role: "user", content: `turn 1 of ${session}` }],
        max_tokens: 2,
      });
      expect(res.choices[0]!.message.content!.split(" ").length).toBe(2);
    }
  });

  test("its program-aware-fairness without strategy (upstream's las) is refused, naming turn-priority", async () => {
    const las = withoutAgentIdentity.replace(/ {2}parameters:\n {4}strategy: turn-priority\n/, "");
    expect(las).not.toBe(withoutAgentIdentity);
    const error = await start(las).then(
      async (s) => {
        await s.close();
        return undefined;
      },
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/strategy: turn-priority/);
  });
}
