import { describe, expect, test } from "bun:test";
import { gateOffAdmitter } from "../../src/flow/gate-off.ts";
import { type AdmissionRequest, type Admitter, admit } from "../../src/stages/admit.ts";
import { Exchange } from "../../src/stages/exchange.ts";
import { testConfig } from "../helpers/config.ts";

/**
 * Issue 19, sixth pass: with flow control off (the default) admission never waits, so the
 * admit stage answers in the same turn: no async frame, promise or microtask for it or the
 * gate-off admitter. What it records (slot, priority, queue time) and what it refuses stay
 * as they were.
 */
const sheddable = `
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: { name: batch }
spec: { priority: -1, poolRef: { name: pool } }
`;

function exchange(admitter: Admitter, objective: string | undefined) {
  const held: unknown[] = [];
  const x = new Exchange(new Request("http://gw/v1/chat/completions", { method: "POST" }), "id");
  x.inferenceRequest = {
    model: "m",
    objective,
    fairnessId: "f",
    bytes: new Uint8Array(12),
    body: { max_tokens: 7 },
  } as unknown as Exchange["inferenceRequest"];
  x.targetModel = { requested: "m", target: "m", rewriteName: undefined };
  x.scope = { hold: (r: unknown) => held.push(r), log: {} } as unknown as Exchange["scope"];
  x.pool = { config: { current: testConfig({}, sheddable) }, admitter } as unknown as Exchange["pool"];
  return { x, held };
}

describe("admission that never waits (flow control off)", () => {
  test("the admit stage answers in the same turn, with what the promise path recorded", () => {
    const config = testConfig({}, sheddable);
    const admitter = gateOffAdmitter({ config: () => config, saturation: () => 0 });
    const { x, held } = exchange(admitter, undefined);
    const answer = admit()(x);
    expect(answer).toBeUndefined();
    expect(x.admission).toEqual({ priority: 0, fairnessId: "f", queuedMs: 0 });
    expect(held).toHaveLength(1);
    expect(x.scope.log).toEqual({ priority: 0, queueMs: 0 });
    expect(x.eviction).toBeUndefined();
  });

  test("a sheddable request on a saturated pool is refused by a throw, not a rejected promise", () => {
    const config = testConfig({}, sheddable);
    const admitter = gateOffAdmitter({ config: () => config, saturation: () => 1 });
    const { x, held } = exchange(admitter, "batch");
    let thrown: { status?: number; droppedReason?: string } | undefined;
    try {
      admit()(x);
    } catch (err) {
      thrown = err as typeof thrown;
    }
    expect(thrown?.status).toBe(429);
    expect(thrown?.droppedReason).toBe("rejected-saturated");
    expect(held).toHaveLength(0);
    expect(x.admission).toBeUndefined();
  });

  test("the gate-off admitter's promise path gives the same answer as admitNow", async () => {
    const config = testConfig({}, sheddable);
    const admitter = gateOffAdmitter({ config: () => config, saturation: () => 0 });
    const req = { objective: "batch", fairnessId: "f", targetModel: "m", bytes: 1 } as AdmissionRequest;
    expect(await admitter.admit(req)).toEqual(admitter.admitNow!(req));
  });

  test("an admitter that waits (flow control on) still goes through its promise", async () => {
    const { x } = exchange(
      {
        admit: async () => ({
          admission: { priority: 0, fairnessId: "f", queuedMs: 3.456 },
          slot: { release() {} },
        }),
      },
      undefined,
    );
    const answer = admit()(x);
    expect(answer).toBeInstanceOf(Promise);
    expect(x.admission).toBeUndefined();
    await answer;
    expect(x.admission?.queuedMs).toBe(3.456);
    expect(x.scope.log.queueMs).toBe(3.46);
  });
});
