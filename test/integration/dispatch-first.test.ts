import { describe, expect, test } from "bun:test";
import type { SetTimer } from "../../src/clock.ts";
import { seededRandom } from "../../src/clock.ts";
import type { FetchFn } from "../../src/deps.ts";
import { createGateway } from "../../src/gateway.ts";
import { Closing } from "../../src/lifecycle.ts";
import { silentLogger } from "../../src/log.ts";
import { attempt, type ClientSignal } from "../../src/proxy/attempt.ts";
import { testConfig } from "../helpers/config.ts";
import { FakeTime } from "../helpers/fake-time.ts";

/**
 * Issue 19, seventh pass: the pod call goes out before what the gateway only watches or
 * counts about it: the attempt's timer, its shutdown watch and the client's 'abort'
 * listener, the request's running gauge and the endpoint's in-flight count. They are set
 * right after, in the same turn, so nothing can fire, abort or read them in between (every
 * one is in place by the next microtask), and the first byte no longer waits for them.
 */

/** A client signal that logs what is done to it. */
function clientSignal(log: string[], aborted = false): ClientSignal & { listeners: number } {
  return {
    aborted,
    reason: aborted ? new Error("client left") : undefined,
    listeners: 0,
    addEventListener() {
      log.push("listen");
      this.listeners++;
    },
    removeEventListener() {
      this.listeners--;
    },
  };
}

const json = () => new Response('{"id":"c"}', { headers: { "content-type": "application/json" } });

describe("the pod call goes out first", () => {
  test("attempt: the call, then its timer, shutdown watch and client listener, all in the same turn", async () => {
    const log: string[] = [];
    const closing = new Closing();
    // attempt watches shutdown with its controller (Closing.watch), not a closure (ninth pass).
    const watch = closing.watch.bind(closing);
    closing.watch = (subscriber) => {
      log.push("shutdown watch");
      return watch(subscriber);
    };
    const time = new FakeTime();
    const setTimer: SetTimer = (fn, ms) => {
      log.push("timer");
      return time.setTimer(fn, ms);
    };
    let inNextMicrotask: string[] = [];
    const fetch: FetchFn = async () => {
      log.push("fetch");
      queueMicrotask(() => {
        inNextMicrotask = [...log];
      });
      return json();
    };
    const client = clientSignal(log);
    const result = await attempt({
      fetch,
      url: "http://127.0.0.1:1/v1/chat/completions",
      headers: new Headers(),
      body: new Uint8Array(0),
      clientSignal: client,
      responseTimeoutMs: 1000,
      closing,
      setTimer,
    });
    expect(result.kind).toBe("response");
    expect(log).toEqual(["fetch", "timer", "shutdown watch", "listen"]);
    expect(inNextMicrotask).toEqual(log);
    expect(client.listeners).toBe(1); // kept while the answer is read, as before
    // The shutdown watch ended with the attempt: a later close leaves the answer's call alone.
    if (result.kind !== "response") throw new Error("no response");
    closing.close();
    expect(result.controller.signal.aborted).toBe(false);
  });

  test("attempt: the timeout, a client that leaves and shutdown still abort the call", async () => {
    const time = new FakeTime();
    const hung: FetchFn = (_url, init) =>
      new Promise((_, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal?.reason)));
    const base = {
      fetch: hung,
      url: "http://127.0.0.1:1/v1/chat/completions",
      headers: new Headers(),
      body: new Uint8Array(0),
      responseTimeoutMs: 50,
      setTimer: time.setTimer,
    };
    const timedOut = attempt({ ...base, clientSignal: new AbortController().signal });
    time.advance(50);
    expect(await timedOut).toEqual({ kind: "retryable", reason: "no response within 50 ms" });

    const client = new AbortController();
    const left = attempt({ ...base, clientSignal: client.signal });
    client.abort(new Error("client left"));
    expect(await left).toEqual({ kind: "client-gone" });

    const closing = new Closing();
    const shut = attempt({ ...base, clientSignal: new AbortController().signal, closing });
    closing.close();
    expect(await shut).toEqual({ kind: "shutdown" });
  });

  test("attempt: a client already gone gets no listener; the call is made aborted", async () => {
    const log: string[] = [];
    let signalAborted: boolean | undefined;
    const fetch: FetchFn = async (_url, init) => {
      signalAborted = init?.signal?.aborted;
      throw init?.signal?.reason;
    };
    const result = await attempt({
      fetch,
      url: "http://127.0.0.1:1/v1/chat/completions",
      headers: new Headers(),
      body: new Uint8Array(0),
      clientSignal: clientSignal(log, true),
      responseTimeoutMs: 1000,
    });
    expect(result).toEqual({ kind: "client-gone" });
    expect(signalAborted).toBe(true);
    expect(log).toEqual([]);
  });

  test("forward: the running gauge and the in-flight count are taken right after the call, before any other turn", async () => {
    let atCall: Promise<number[]> | undefined;
    let nextMicrotask: Promise<number[]> | undefined;
    let gw: ReturnType<typeof createGateway> | undefined;
    // Both read when called (the gauge's `get` computes its values before its first await).
    const counts = () => {
      const deps = gw!.deps;
      const inflight = deps.inflight.get("a");
      return runningValue(deps).then((running) => [inflight, running]);
    };
    gw = createGateway({
      config: testConfig({ endpoints: [{ name: "a", address: "10.0.0.1:8000", models: ["m"] }] }),
      logger: silentLogger(),
      random: seededRandom(1),
      fetch: async () => {
        atCall = counts();
        queueMicrotask(() => {
          nextMicrotask = counts();
        });
        return json();
      },
    });
    const res = await gw.fetch(
      new Request("http://gw/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }),
      }),
    );
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect(await atCall).toEqual([0, 0]);
    expect(await nextMicrotask).toEqual([1, 1]);
    expect(await counts()).toEqual([0, 0]); // and given back at the end, as before
  });
});

/** The GIE running gauge's value, summed over its series (`get` reads them synchronously). */
async function runningValue(deps: {
  metrics: { running: { get(): Promise<{ values: { value: number }[] }> } };
}) {
  const { values } = await deps.metrics.running.get();
  return values.reduce((n, v) => n + v.value, 0);
}
