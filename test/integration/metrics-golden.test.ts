import { expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { seededRandom } from "../../src/clock.ts";
import { createGateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { POOL, testConfig } from "../helpers/config.ts";
import { fakeUpstream } from "../helpers/fake-upstream.ts";

/**
 * Pins the /metrics exposition (names, HELP, TYPE, labels, buckets) so a change to what
 * existing GIE dashboards read is a deliberate one. A fixed clock makes every value
 * deterministic. Regenerate with UPDATE_GOLDEN=1 after an intended change.
 */
const GOLDEN = new URL("../golden/metrics.txt", import.meta.url);

const REWRITE = `
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: { name: alias }
spec:
  poolRef: { name: pool }
  rules: [{ matches: [{ model: { value: alias } }], targets: [{ modelRewrite: m }] }]
`;
const FLOW = `
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
featureGates: [flowControl]
plugins: [{ type: concurrency-detector }]
`;

test("the /metrics exposition matches the golden file", async () => {
  const sse = [
    `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "a" } }] })}\n\n`,
    `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "b" } }] })}\n\n`,
    `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } })}\n\n`,
    "data: [DONE]\n\n",
  ].join("");
  const upstream = fakeUpstream((call) =>
    call.body["stream"]
      ? new Response(sse, { headers: { "content-type": "text/event-stream" } })
      : Response.json({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } }),
  );
  const gw = createGateway({
    config: testConfig(
      { pool: "pool", endpoints: [{ name: "a", address: "10.0.0.1:8000", models: ["m"] }] },
      POOL,
      REWRITE,
      FLOW,
    ),
    fetch: upstream.fetch,
    logger: silentLogger(),
    clock: { now: () => 1000 },
    random: seededRandom(1),
  });
  const chat = (model: string, stream = false) =>
    gw.fetch(
      new Request("http://gw/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json", "x-gateway-inference-fairness-id": "tenant-a" },
        body: JSON.stringify({ model, stream, messages: [{ role: "user", content: "x".repeat(200) }] }),
      }),
    );
  await (await chat("m")).text();
  await (await chat("alias", true)).text();
  await (await chat("unknown")).text();
  const text = await (await gw.fetch(new Request("http://gw/metrics"))).text();
  if (process.env["UPDATE_GOLDEN"] || !existsSync(GOLDEN)) writeFileSync(GOLDEN, text);
  expect(text).toBe(readFileSync(GOLDEN, "utf8"));
});
