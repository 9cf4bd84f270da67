import { heapStats } from "bun:jsc";
import { expect, test } from "bun:test";
import { parseConfig } from "../../src/config/load.ts";
import { createGateway } from "../../src/gateway.ts";
import { createLogger } from "../../src/log.ts";

/**
 * Issue 19, sixth pass: what a JSON request allocates is what Bun's collector pays for. With
 * flow control off, admission answers in the same turn (no async frame or promise of the admit
 * stage or the admitter), and the request's holds (pool count, running gauge, the answer's
 * accounting), its shutdown watch and its log line make no closure per request: per request
 * 30 functions, 54 closure scopes, 16 promises and 9 async frames became 23, 45, 14 and 8
 * (four endpoints, the default profile, metrics and the log line on). The bounds leave one
 * of each for new work; a closure per request again fails them.
 */
test("a JSON request makes no closure for its holds, shutdown watch or log line, and no promise for admission", async () => {
  const completion = new TextEncoder().encode(
    JSON.stringify({
      id: "c",
      object: "chat.completion",
      model: "m",
      choices: [{ index: 0, message: { role: "assistant", content: "Hi" }, finish_reason: "stop" }],
      usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
    }),
  );
  const yaml = [
    "apiVersion: gateway.inference.dev/v1alpha1",
    "kind: GatewayConfig",
    "endpoints:",
    ...[1, 2, 3, 4].map((i) => `  - { name: pod-${i}, address: "127.0.0.1:${i}", models: [m] }`),
  ].join("\n");
  let lines = 0;
  const gateway = createGateway({
    config: parseConfig(yaml, "alloc.yaml"),
    logger: createLogger("info", (line) => {
      if (line.includes('"msg":"request"')) lines++;
    }),
    fetch: async () => new Response(completion, { headers: { "content-type": "application/json" } }),
  });
  const body = '{"model":"m","messages":[{"role":"user","content":"Hello"}],"max_tokens":16}';
  const request = () =>
    new Request("http://gw/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(body.length) },
      body,
    });
  const one = async (r: Request) => {
    const res = await gateway.fetch(r);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  };
  for (let i = 0; i < 500; i++) await one(request());
  const n = 200;
  // The harness's own requests are made before counting.
  const requests = Array.from({ length: n }, request);
  Bun.gc(true);
  const before = heapStats().objectTypeCounts;
  for (const r of requests) await one(r);
  const after = heapStats().objectTypeCounts;
  // A collection in between could only lower the counts: the test cannot fail by it.
  const per = (kind: string) => ((after[kind] ?? 0) - (before[kind] ?? 0)) / n;
  expect(lines).toBe(500 + n);
  expect(per("Function")).toBeLessThanOrEqual(24);
  expect(per("JSLexicalEnvironment")).toBeLessThanOrEqual(46);
  expect(per("Promise")).toBeLessThanOrEqual(14);
  expect(per("AsyncFunctionGenerator")).toBeLessThanOrEqual(8);
  await gateway.stop?.();
});
