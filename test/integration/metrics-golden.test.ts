import { expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { chatOn, goldenUpstream, metricsGateway } from "../helpers/metrics-gateway.ts";

/**
 * Pins the /metrics exposition (names, HELP, TYPE, labels, buckets) so a change to what
 * existing GIE dashboards read is a deliberate one. A fixed clock makes every value
 * deterministic. Regenerate with UPDATE_GOLDEN=1 after an intended change.
 */
const GOLDEN = new URL("../golden/metrics.txt", import.meta.url);

test("the /metrics exposition matches the golden file", async () => {
  const upstream = goldenUpstream();
  const gw = metricsGateway(upstream.fetch, () => 1000);
  const chat = chatOn(gw, 200);
  await (await chat("m")).text();
  await (await chat("alias", true)).text();
  await (await chat("unknown")).text();
  const text = await (await gw.fetch(new Request("http://gw/metrics"))).text();
  if (process.env["UPDATE_GOLDEN"] || !existsSync(GOLDEN)) writeFileSync(GOLDEN, text);
  expect(text).toBe(readFileSync(GOLDEN, "utf8"));
});
