import { describe, expect, test } from "bun:test";
import { sha256Hex } from "../../src/auth/keys.ts";
import { createGateway } from "../../src/gateway.ts";
import { createLogger } from "../../src/log.ts";
import { testConfig } from "../helpers/config.ts";
import { fakeUpstream } from "../helpers/fake-upstream.ts";

const ENDPOINTS = [{ name: "a", address: "10.0.0.1:8000", models: ["m"] }];
const SECRET_PROMPT = "my secret prompt text";

async function setup() {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const upstream = fakeUpstream(() =>
    Response.json({
      choices: [],
      usage: {
        prompt_tokens: 9,
        completion_tokens: 4,
        total_tokens: 13,
        prompt_tokens_details: { cached_tokens: 8 },
      },
    }),
  );
  const config = testConfig({
    logLevel: "info",
    endpoints: ENDPOINTS,
    auth: { apiKeys: [{ name: "team-a", sha256: await sha256Hex("sk-live-123"), tenant: "team-a" }] },
  });
  const logger = createLogger("info", (l) => {
    raw.push(l);
    lines.push(JSON.parse(l));
  });
  const gw = createGateway({ config, fetch: upstream.fetch, logger });
  return { gw, lines, raw };
}

const chat = (model: string, key = "sk-live-123") =>
  new Request("http://gw/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}`, "x-request-id": "req-42" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: SECRET_PROMPT }] }),
  });

describe("one structured log line per request", () => {
  test("says where the request went and how it went, never the key or the prompt", async () => {
    const { gw, lines, raw } = await setup();
    await (await gw.fetch(chat("m"))).text();
    const line = lines.find((l) => l["msg"] === "request")!;
    expect(line).toMatchObject({
      level: "info",
      requestId: "req-42",
      model: "m",
      targetModel: "m",
      fairnessId: "team-a",
      tenantKey: "team-a",
      status: 200,
      outcome: "success",
      endpoint: "a",
      promptTokens: 9,
      completionTokens: 4,
      cachedTokens: 8,
    });
    expect(typeof line["durationMs"]).toBe("number");
    const all = raw.join("\n");
    expect(all).not.toContain(SECRET_PROMPT);
    expect(all).not.toContain("sk-live-123");
  });

  test("the line has the dashboard summary's fields in the same order, then tenantKey and stream", async () => {
    const { gw, lines } = await setup();
    await (await gw.fetch(chat("m"))).text();
    const line = lines.find((l) => l["msg"] === "request")!;
    const summary = gw.deps.recent.since(0).items.at(-1)!;
    const defined = (o: object) =>
      Object.entries(o)
        .filter(([, v]) => v !== undefined)
        .map(([k]) => k);
    expect(Object.keys(line)).toEqual(["time", "level", "msg", ...defined(summary), "tenantKey", "stream"]);
    expect(defined(summary)).toEqual([
      "at",
      "requestId",
      "model",
      "kind",
      "pool",
      "targetModel",
      "fairnessId",
      "status",
      "outcome",
      "durationMs",
      "priority",
      "queueMs",
      "endpoint",
      "promptTokens",
      "completionTokens",
      "cachedTokens",
    ]);
  });

  test("rejections are logged with their status and drop reason", async () => {
    const { gw, lines } = await setup();
    await (await gw.fetch(chat("m", "sk-wrong"))).text();
    const line = lines.find((l) => l["msg"] === "request")!;
    expect(line["status"]).toBe(401);
    expect(line["outcome"]).toBe("error");
  });
});

describe("label values are capped", () => {
  test("a scan of names nothing serves costs no series: all count as `unknown`", async () => {
    const { gw } = await setup();
    for (let i = 0; i < 120; i++) await (await gw.fetch(chat(`scan-${i}`))).text();
    const text = await (await gw.fetch(new Request("http://gw/metrics"))).text();
    const series = text.split("\n").filter((l) => l.startsWith("inference_objective_request_total{"));
    expect(series.length).toBe(1);
    expect(text).toContain(
      'inference_objective_request_total{model_name="unknown",target_model_name="unknown",priority="0"} 120',
    );
  });
});
