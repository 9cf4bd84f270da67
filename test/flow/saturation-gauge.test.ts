import { expect, test } from "bun:test";
import { createGateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { testConfig } from "../helpers/config.ts";
import { FakeTime } from "./helpers.ts";

const FLOW = `
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
featureGates: [flowControl]
saturationDetector: { queueDepthThreshold: 2 }
`;

const gauge = async (gw: ReturnType<typeof createGateway>) => {
  const text = await (await gw.fetch(new Request("http://gw/metrics"))).text();
  return Number(/^inference_extension_flow_control_pool_saturation\{[^}]*\} (\S+)$/m.exec(text)?.[1]);
};

test("the pool saturation gauge follows the pool when nothing is dispatched (no stale busy value)", async () => {
  const time = new FakeTime();
  const gw = createGateway({
    config: testConfig({ endpoints: [{ name: "a", address: "10.0.0.1:8000", models: ["m"] }] }, FLOW),
    logger: silentLogger(),
    clock: time.clock,
  });
  const { endpoints } = gw.deps;
  const scrape = (waitingQueueSize: number) =>
    endpoints.setMetrics("a", {
      waitingQueueSize,
      runningRequests: 4,
      kvCacheUsage: 0,
      updatedAt: time.clock.now(),
    });
  scrape(3);
  expect(await gauge(gw)).toBe(1.5);
  time.advance(50);
  scrape(0); // the pool drains; no request arrives, so flow control computes nothing
  expect(await gauge(gw)).toBe(0);
  time.advance(5000); // metrics stop arriving: stale counts as saturated
  expect(await gauge(gw)).toBe(1);
});
