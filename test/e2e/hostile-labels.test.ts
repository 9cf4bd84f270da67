import { afterEach, describe, expect, test } from "bun:test";
import { MAX_LABEL_LENGTH } from "../../src/metrics/label-cap.ts";
import { type HostileStack, MODEL, startHostile } from "./hostile-kit.ts";

/**
 * Issue 14 item 1: metrics memory was client-controlled (100 requests naming 1 MiB
 * models grew /metrics to 400 MB). No client string may become a label unbounded.
 */
let stack: HostileStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const MiB = 1 << 20;
/** Flow control on, so fairness ids label its queue metrics. */
const FLOW = `
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
featureGates: [flowControl]
plugins: [{ type: concurrency-detector }]
`;

/** A distinct name of `size` characters. */
const hugeName = (i: number, size: number) => `${i}-`.padEnd(size, "x");

async function post(url: string, model: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }], max_tokens: 2 }),
  });
  return { status: res.status, text: await res.text() };
}

/** Every label value in an exposition, and the number of series per metric name. */
function labelValues(text: string) {
  const values: string[] = [];
  const series = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const name = line.slice(0, line.search(/[{ ]/));
    series.set(name, (series.get(name) ?? 0) + 1);
    for (const m of line.matchAll(/="((?:[^"\\]|\\.)*)"/g)) values.push(m[1]!);
  }
  return { values, series };
}

describe("hostile clients: metric labels stay bounded", () => {
  test("1 MiB model names, refused or served through the rewrite header, never reach /metrics, logs or the dashboard ring", async () => {
    stack = await startHostile({ yaml: [FLOW] });
    const s = stack;
    // 20 unknown 1 MiB names (404), 20 served through the rewrite header (200), 20 huge fairness ids.
    for (let i = 0; i < 20; i++) {
      const refused = await post(s.url, hugeName(i, MiB));
      expect(refused.status).toBe(404);
      expect(refused.text.length).toBeLessThan(2000);
    }
    for (let i = 0; i < 20; i++)
      expect(
        (await post(s.url, hugeName(100 + i, MiB), { "x-gateway-model-name-rewrite": MODEL })).status,
      ).toBe(200);
    // Fairness ids past 256 characters are refused before flow control keeps them (085e6f4).
    for (let i = 0; i < 20; i++) {
      const huge = await post(s.url, MODEL, { "x-gateway-inference-fairness-id": hugeName(200 + i, 8000) });
      expect(huge.status).toBe(400);
      expect(huge.text).toContain("invalid_fairness_id");
      expect(huge.text.length).toBeLessThan(2000);
    }

    const text = await (await fetch(`${s.url}/metrics`)).text();
    expect(text.length).toBeLessThan(200_000);
    const { values } = labelValues(text);
    expect(Math.max(...values.map((v) => v.length))).toBeLessThanOrEqual(MAX_LABEL_LENGTH);
    expect(text).toContain('model_name="unknown",target_model_name="unknown",error_code="BadRequest"} 20');
    expect(text).not.toContain(hugeName(200, 300).slice(0, 300));

    // Log lines and the dashboard's ring carry cut names, not megabytes.
    expect(Math.max(...s.logSizes)).toBeLessThan(8_000);
    expect(s.logs.filter((l) => l["msg"] === "request").length).toBe(60);
    const recent = s.gateway.deps.recent.since(0).items;
    expect(recent.length).toBe(60);
    expect(Math.max(...recent.map((r) => JSON.stringify(r).length))).toBeLessThan(2_000);
  });

  test("a scan of many short names: refused ones cost no series; accepted ones stop at the cap", async () => {
    stack = await startHostile();
    const s = stack;
    for (let i = 0; i < 300; i++) expect((await post(s.url, `scan-${i}`)).status).toBe(404);
    for (let i = 0; i < 150; i++)
      expect((await post(s.url, `alias-${i}`, { "x-llm-d-model-name-rewrite": MODEL })).status).toBe(200);
    const text = await (await fetch(`${s.url}/metrics`)).text();
    const { series } = labelValues(text);
    // 100 accepted aliases of their own, one `other` (50 more), one `unknown` (the 404s);
    // the served model stays pinned under its own name.
    expect(series.get("inference_objective_request_total")).toBe(102);
    expect(text).toContain(
      'inference_objective_request_total{model_name="unknown",target_model_name="unknown",priority="0"} 300',
    );
    expect(text).toContain(
      `inference_objective_request_total{model_name="other",target_model_name="${MODEL}",priority="0"} 50`,
    );
    expect(text).toContain(`target_model_name="${MODEL}"`);
    expect(text).not.toContain("scan-");
  });
});
