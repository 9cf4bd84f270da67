import { describe, expect, test } from "bun:test";
import type { FetchFn } from "../../src/deps.ts";
import { attempt } from "../../src/proxy/attempt.ts";
import { LightAbortController, LightAbortSignal, offerLightAborts } from "../../src/runtime/node-abort.ts";
import { FakeTime, flushMicrotasks } from "../helpers/fake-time.ts";

describe("LightAbortController: what attempt uses of an AbortController", () => {
  test("aborts once, with its reason; listeners run once, in order, during abort; removed ones do not", () => {
    const c = new LightAbortController();
    const seen: string[] = [];
    const a = () => seen.push("a");
    const b = () => seen.push("b");
    const gone = () => seen.push("gone");
    c.signal.addEventListener("abort", a);
    c.signal.addEventListener("abort", a); // the same listener once, as an EventTarget
    c.signal.addEventListener("abort", gone);
    c.signal.addEventListener("abort", b);
    c.signal.removeEventListener("abort", gone);
    expect(c.signal.aborted).toBe(false);
    expect(() => c.signal.throwIfAborted()).not.toThrow();
    const why = new Error("timed out");
    c.abort(why);
    expect(seen).toEqual(["a", "b"]);
    c.abort(new Error("again"));
    expect(seen).toEqual(["a", "b"]);
    expect(c.signal.reason).toBe(why);
    expect(() => c.signal.throwIfAborted()).toThrow("timed out");
  });

  test("an abort without a reason gives the platform's AbortError", () => {
    const c = new LightAbortController();
    c.abort();
    expect((c.signal.reason as Error).name).toBe("AbortError");
    expect(() => c.signal.throwIfAborted()).toThrow("This operation was aborted");
  });

  test("the call a signal runs is told first, then the listeners", () => {
    const c = new LightAbortController();
    const seen: string[] = [];
    c.signal.call = { aborted: (reason) => seen.push(`call: ${(reason as Error).message}`) };
    c.signal.addEventListener("abort", () => seen.push("listener"));
    c.abort(new Error("client left"));
    expect(seen).toEqual(["call: client left", "listener"]);
    expect(c.signal.call).toBeUndefined();
  });
});

describe("attempt with a fetch that offers light controllers", () => {
  /** A pod that never answers until its call is aborted; records the signal it got. */
  function silentPod() {
    const got: { signal?: unknown } = {};
    const fetch = offerLightAborts(((_url: string, init: RequestInit) => {
      got.signal = init.signal;
      return new Promise<Response>((_, reject) => {
        const signal = init.signal as unknown as LightAbortSignal;
        signal.addEventListener("abort", () => reject(signal.reason));
      });
    }) as FetchFn);
    return { fetch, got };
  }

  test("the pod's call gets the light signal; the client leaving aborts it (client-gone)", async () => {
    const pod = silentPod();
    const client = new AbortController();
    const time = new FakeTime();
    const running = attempt({
      fetch: pod.fetch,
      url: "http://pod/v1/chat/completions",
      headers: new Headers(),
      body: new Uint8Array(2),
      clientSignal: client.signal,
      responseTimeoutMs: 1000,
      setTimer: time.setTimer,
    });
    await flushMicrotasks(5);
    expect(pod.got.signal).toBeInstanceOf(LightAbortSignal);
    client.abort(new Error("client left"));
    expect(await running).toEqual({ kind: "client-gone" });
    expect((pod.got.signal as LightAbortSignal).reason).toEqual(new Error("client left"));
  });

  test("no answer within responseTimeoutMs aborts the call: retryable, as with the platform's controller", async () => {
    const pod = silentPod();
    const time = new FakeTime();
    const running = attempt({
      fetch: pod.fetch,
      url: "http://pod/v1/chat/completions",
      headers: new Headers(),
      body: new Uint8Array(2),
      clientSignal: new AbortController().signal,
      responseTimeoutMs: 1000,
      setTimer: time.setTimer,
    });
    await time.advanceAsync(1000);
    expect(await running).toEqual({ kind: "retryable", reason: "no response within 1000 ms" });
    expect((pod.got.signal as LightAbortSignal).aborted).toBe(true);
  });

  test("an answer's controller is the light one: aborting it reaches the call's signal", async () => {
    let signal: LightAbortSignal | undefined;
    const fetch = offerLightAborts((async (_url: string, init: RequestInit) => {
      signal = init.signal as unknown as LightAbortSignal;
      return new Response("{}", { headers: { "content-type": "application/json" } });
    }) as FetchFn);
    const r = await attempt({
      fetch,
      url: "http://pod/v1/chat/completions",
      headers: new Headers(),
      body: new Uint8Array(2),
      clientSignal: new AbortController().signal,
      responseTimeoutMs: 1000,
      setTimer: new FakeTime().setTimer,
    });
    if (r.kind !== "response") throw new Error(r.kind);
    expect(r.controller).toBeInstanceOf(LightAbortController);
    r.controller.abort(new Error("relay: idle"));
    expect(signal?.aborted).toBe(true);
  });
});
