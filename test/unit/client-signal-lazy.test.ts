import { describe, expect, test } from "bun:test";
import type { IncomingMessage } from "node:http";
import { NodeRequest } from "../../src/runtime/node-request.ts";
import { type AdmissionRequest, admit } from "../../src/stages/admit.ts";
import { Eviction } from "../../src/stages/evictable.ts";
import { Exchange } from "../../src/stages/exchange.ts";

const CLIENT_SIGNAL = Symbol.for("inference-gateway.clientSignal");

/** A client request that counts reads of its platform signal (what costs ~4 µs under Node). */
function countingRequest(offer?: () => unknown) {
  const request = new Request("http://gw/v1/chat/completions", { method: "POST" });
  const seen = { reads: 0 };
  const real = request.signal;
  Object.defineProperty(request, "signal", {
    get() {
      seen.reads++;
      return real;
    },
  });
  if (offer) Object.defineProperty(request, CLIENT_SIGNAL, { value: offer });
  return { request, seen, real };
}

const nodeRequest = () =>
  new NodeRequest(
    { method: "POST", rawHeaders: [] as string[] } as IncomingMessage,
    "http://gw/v1/chat/completions",
  );

describe("the client's signal is read on first use", () => {
  test("an Exchange reads no signal until asked, then the request's own", () => {
    const { request, seen, real } = countingRequest();
    const x = new Exchange(request, "id");
    expect(seen.reads).toBe(0);
    expect(x.signal).toBe(real);
    expect(x.signal).toBe(real);
    expect(seen.reads).toBe(1);
  });

  test("clientSignal prefers the request's offered light signal, and reads no platform signal for it", () => {
    const light = { aborted: false, reason: undefined, addEventListener() {}, removeEventListener() {} };
    const { request, seen } = countingRequest(() => light);
    const x = new Exchange(request, "id");
    expect(x.clientSignal).toBe(light);
    expect(seen.reads).toBe(0);
  });

  test("without an offer, clientSignal is the request's signal", () => {
    const { request, real } = countingRequest();
    expect(new Exchange(request, "id").clientSignal).toBe(real);
  });

  test("once a stage replaced the signal (eviction, a deadline), clientSignal follows the replacement", () => {
    const light = { aborted: false, reason: undefined, addEventListener() {}, removeEventListener() {} };
    const { request } = countingRequest(() => light);
    const x = new Exchange(request, "id");
    const eviction = new Eviction();
    eviction.arm(x);
    expect(x.clientSignal).toBe(x.signal);
    expect(x.clientSignal).not.toBe(light);
    const err = new Error("evicted");
    eviction.evict(err as never);
    expect(x.clientSignal.aborted).toBe(true);
    expect(x.clientSignal.reason).toBe(err);
  });
});

describe("NodeRequest's light client signal", () => {
  test("aborts with the reason the platform signal gets, listeners run once", () => {
    const r = nodeRequest();
    const light = (r as unknown as Record<symbol, () => Exchange["clientSignal"]>)[CLIENT_SIGNAL]!.call(r);
    const calls: unknown[] = [];
    light.addEventListener("abort", () => calls.push(light.reason));
    expect(light.aborted).toBe(false);
    const gone = new Error("Client connection prematurely closed.");
    r.clientGone(gone);
    r.clientGone(new Error("again"));
    expect(light.aborted).toBe(true);
    expect(calls).toEqual([gone]);
    expect(r.signal.aborted).toBe(true);
    expect(r.signal.reason).toBe(gone);
  });

  test("read after the client left, it is aborted already", () => {
    const r = nodeRequest();
    const gone = new Error("left");
    r.clientGone(gone);
    const x = new Exchange(r as unknown as Request, "id");
    expect(x.clientSignal.aborted).toBe(true);
    expect(x.clientSignal.reason).toBe(gone);
  });
});

describe("the admit stage hands the signal on lazily", () => {
  /** An exchange far enough along for admit (parse, route, candidates done), and what the admitter got. */
  function admitted(readSignal: boolean) {
    const { request, seen, real } = countingRequest();
    const x = new Exchange(request, "id");
    const got: { request?: AdmissionRequest; signal?: AbortSignal } = {};
    x.inferenceRequest = {
      model: "m",
      objective: undefined,
      fairnessId: "f",
      bytes: new Uint8Array(12),
      body: { max_tokens: 7 },
    } as unknown as Exchange["inferenceRequest"];
    x.targetModel = { target: "t" } as Exchange["targetModel"];
    x.scope = { hold() {}, log: {} } as unknown as Exchange["scope"];
    x.pool = {
      config: { current: { objectives: [] } },
      admitter: {
        admit: async (r: AdmissionRequest) => {
          got.request = r;
          if (readSignal) got.signal = r.signal;
          return { admission: { priority: 0, queuedMs: 0 }, slot: { release() {} } };
        },
      },
    } as unknown as Exchange["pool"];
    return { x, seen, real, got };
  }

  test("an admitter that never looks at the signal costs no read", async () => {
    const { x, seen, got } = admitted(false);
    await admit()(x);
    expect(seen.reads).toBe(0);
    expect(got.request).toMatchObject({
      model: "m",
      fairnessId: "f",
      targetModel: "t",
      bytes: 12,
      expectedOutputTokens: 7,
      deadlineMs: undefined,
      onEvicted: undefined,
    });
  });

  test("flow control reading it gets the exchange's signal", async () => {
    const { x, real, got } = admitted(true);
    await admit()(x);
    expect(got.signal).toBe(real);
  });
});
