/**
 * The Bun and Node entries write a request's metrics and log line after its answer
 * (src/observability/after-answer.ts, one `setImmediate` a turn; src/runtime/bun.ts, node.ts):
 * on a real socket, a /metrics scrape sent after an answer came back counts that answer,
 * every time (the turn's drain wrote it, or the scrape's own drain does), and a SIGTERM right
 * after the last answer still writes every request's line before the process exits.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { ENTRIES, freePort, onePodConfig, startChild, tempDir, waitFor } from "./harness.ts";

const tmp = tempDir("gw-after-answer-");
afterAll(() => tmp.remove());

const COMPLETION = JSON.stringify({
  id: "c",
  object: "chat.completion",
  model: "m",
  choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
});

describe.each(ENTRIES)("the $name entry", ({ name, command, startMs }) => {
  test("a scrape after each answer counts it; SIGTERM after the last still writes every line", async () => {
    const pod = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: () => new Response(COMPLETION, { headers: { "content-type": "application/json" } }),
    });
    const port = await freePort();
    const config = onePodConfig(tmp.dir, `gw-${name}.yaml`, `127.0.0.1:${pod.port}`);
    const child = startChild([...command, "--config", config, "--port", String(port), "--host", "127.0.0.1"]);
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitFor(
        "the gateway listening",
        async () =>
          (await fetch(`${base}/healthz`).catch(() => undefined))?.status === 200 ? true : undefined,
        { timeoutMs: startMs, child },
      );
      const N = 40;
      for (let i = 1; i <= N; i++) {
        const res = await fetch(`${base}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-request-id": `after-${i}` },
          body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }),
        });
        expect(res.status).toBe(200);
        await res.text();
        const metrics = await (await fetch(`${base}/metrics`)).text();
        const count = metrics.match(/^inference_objective_request_total\{model_name="m"[^}]*\} (\d+)$/m)?.[1];
        expect(Number(count)).toBe(i);
      }
      expect(await child.stop()).toBe(0);
      const lines = child
        .output()
        .split("\n")
        .filter((l) => l.includes('"msg":"request"') && l.includes('"requestId":"after-'));
      expect(lines.length).toBe(N);
      // The start-up warm-up is opt-in: a default start sends no synthetic request.
      expect(child.output()).not.toContain("start-up warm-up");
      expect(lines.at(-1)).toContain(`"requestId":"after-${N}"`);
    } finally {
      await child.stop();
      pod.stop(true);
    }
  }, 60_000);
});
