import { expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fakeUpstream } from "../helpers/fake-upstream.ts";
import { chatOn, metricsGateway } from "../helpers/metrics-gateway.ts";

/**
 * Pins the /metrics exposition (names, HELP, TYPE, labels, buckets) so a change to what
 * existing GIE dashboards read is a deliberate one. A fixed clock makes every value
 * deterministic. Regenerate with UPDATE_GOLDEN=1 after an intended change.
 */
const GOLDEN = new URL("../golden/metrics.txt", import.meta.url);

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
  const gw = metricsGateway(upstream.fetch, () => 1000);
  const chat = chatOn(gw, 200);
  await (await chat("m")).text();
  await (await chat("alias", true)).text();
  await (await chat("unknown")).text();
  const text = await (await gw.fetch(new Request("http://gw/metrics"))).text();
  if (process.env["UPDATE_GOLDEN"] || !existsSync(GOLDEN)) writeFileSync(GOLDEN, text);
  expect(text).toBe(readFileSync(GOLDEN, "utf8"));
});
