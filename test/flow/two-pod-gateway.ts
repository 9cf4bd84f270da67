import { createGateway, type Gateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { testConfig } from "../helpers/config.ts";
import { FakeTime } from "./helpers.ts";

/** Flow control on, the utilization detector at `queueDepthThreshold: 2`. */
const FLOW = `
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
featureGates: [flowControl]
saturationDetector: { queueDepthThreshold: 2 }
`;

/**
 * A gateway (its own wiring, no ports) with flow control on over two endpoints `a` and `b`
 * serving model `m`, on fake time. `admit()` queues one request for `m` and ignores how it
 * ends; tests read `flow.stats()`.
 */
export function twoPodFlowGateway(): {
  gw: Gateway;
  time: FakeTime;
  now: number;
  flow: NonNullable<Gateway["deps"]["flow"]>;
  admit(): void;
} {
  const time = new FakeTime();
  time.advance(10_000);
  const gw = createGateway({
    config: testConfig(
      {
        endpoints: [
          { name: "a", address: "10.0.0.1:8000", models: ["m"] },
          { name: "b", address: "10.0.0.2:8000", models: ["m"] },
        ],
      },
      FLOW,
    ),
    logger: silentLogger(),
    clock: time.clock,
    setTimer: time.setTimer,
  });
  const flow = gw.deps.flow!;
  const admit = () => {
    flow
      .admit({
        objective: undefined,
        fairnessId: "t",
        targetModel: "m",
        bytes: 10,
        signal: new AbortController().signal,
      })
      .catch(() => {});
  };
  return { gw, time, now: time.clock.now(), flow, admit };
}
