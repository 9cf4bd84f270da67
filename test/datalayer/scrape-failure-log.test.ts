import { afterEach, expect, test } from "bun:test";
import { createGateway } from "../../src/gateway.ts";
import { createLogger } from "../../src/log.ts";
import { testConfig } from "../helpers/config.ts";
import { FakeTime } from "../helpers/fake-time.ts";
import { startMetricsServer, waitFor } from "./helpers/metrics-server.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

test("a failing scrape streak warns once (the pod leaves scheduling), then logs its recovery", async () => {
  const server = startMetricsServer({ status: 500, body: "busy" });
  cleanups.push(() => server.stop());
  const logs: { level: string; msg: string; endpoint?: string; error?: string }[] = [];
  const time = new FakeTime();
  const gateway = createGateway({
    config: testConfig({
      dataLayer: { scrapeIntervalMs: 50 },
      endpoints: [{ name: "a", address: server.url("").replace("http://", ""), models: ["m"] }],
    }),
    clock: time.clock,
    setTimer: time.setTimer,
    logger: createLogger("debug", (line) => logs.push(JSON.parse(line))),
  });
  gateway.start();
  cleanups.push(() => gateway.stop());
  const scrapes = () => server.stats("/metrics").requests;
  const failures = () => gateway.deps.endpoints.get("a")?.scrape?.failures ?? 0;
  await time.advanceAsync(0);
  await waitFor(() => failures() === 1, 5000, "the first failure");
  for (let n = 2; n <= 3; n++) {
    await time.advanceAsync(50 * 2 ** (n - 1)); // the back-off after n - 1 failures
    await waitFor(() => failures() === n, 5000, `failure ${n}`);
  }
  const about = (level: string) => logs.filter((l) => l.level === level && l.endpoint === "a");
  expect(about("warn")).toHaveLength(1);
  expect(about("warn")[0]!.msg).toContain("gets no new requests while other endpoints have current metrics");
  expect(about("warn")[0]!.error).toContain("HTTP 500");
  expect(about("debug").filter((l) => l.msg === "metrics scrape failed")).toHaveLength(2);
  server.behaviour.status = 200;
  server.behaviour.body = "vllm:num_requests_waiting 0\n";
  const before = scrapes();
  await time.advanceAsync(400);
  await waitFor(() => scrapes() > before && failures() === 0, 5000, "a good scrape");
  expect(about("info").map((l) => l.msg)).toEqual(["metrics scrape recovered"]);
});
