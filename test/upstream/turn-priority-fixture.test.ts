/**
 * Fixture 22 (llm-d's turn-priority fairness guide) as written: `program-aware-fairness`
 * with `strategy: turn-priority`, and `agent-identity` deriving each session's fairness
 * id from the coding agent's own session header, through the real stack.
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

// Compatibility is judged on upstream's own files: without them this fails, never passes quietly.
if (!existsSync(FILE))
  test("fixture 22 is present", () => {
    throw new Error(`${FILE} is absent: ../shared/upstream-configs must sit beside the project`);
  });
else {
  const text = readFileSync(FILE, "utf8");

  test("fixture 22 loads and serves; agent-identity derives each session's fairness id", async () => {
    const stack = await start(text);
    running.push(stack);
    const ask = async (headers: Record<string, string>) => {
      const client = new OpenAI({
        baseURL: `${stack.url}/v1`,
        apiKey: "unused",
        maxRetries: 0,
        defaultHeaders: headers,
      });
      const res = await client.chat.completions.create({
        model: MODEL,
        messages: [{ role: "user", content: "a turn" }],
        max_tokens: 2,
      });
      expect(res.choices[0]!.message.content!.split(" ").length).toBe(2);
    };
    await ask({ "x-claude-code-session-id": "claude-1" });
    await ask({ "x-session-affinity": "opencode-1", "session-id": "codex-ignored" });
    await ask({ "session-id": "codex-1" });
    await ask({ session_id: "codex-old-1" });
    // An explicit fairness id wins over a derived one.
    await ask({
      "x-gateway-inference-fairness-id": "explicit-1",
      "x-claude-code-session-id": "claude-ignored",
    });
    await ask({});
    const metrics = await (await fetch(`${stack.url}/metrics`)).text();
    for (const id of ["claude-1", "opencode-1", "codex-1", "codex-old-1", "explicit-1", "default-flow"])
      expect(metrics).toContain(`fairness_id="${id}"`);
    for (const id of ["codex-ignored", "claude-ignored"])
      expect(metrics).not.toContain(`fairness_id="${id}"`);
  });

  test("an over-long agent session header is a 400 naming what to change", async () => {
    const stack = await start(text);
    running.push(stack);
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-claude-code-session-id": "s".repeat(300) },
      body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "hi" }], max_tokens: 2 }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("invalid_fairness_id");
    expect(body.error.message).toContain("agent session header");
  });

  test("its program-aware-fairness without strategy (upstream's las) is refused, naming turn-priority", async () => {
    const las = text.replace(/ {2}parameters:\n {4}strategy: turn-priority\n/, "");
    expect(las).not.toBe(text);
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
