import { describe, expect, test } from "bun:test";
import type { FetchFn } from "../../src/deps.ts";
import { attempt, type ClientSignal } from "../../src/proxy/attempt.ts";
import { FakeTime } from "../helpers/fake-time.ts";

/**
 * Issue 19, eleventh pass: attempt watches a platform client signal through its free `onabort`
 * slot (cheaper than an 'abort' listener on Bun), and through a listener when the slot is held
 * or the signal has none (a runtime's lighter signal). Either way the client leaving aborts the
 * pod call, and an attempt that ends unanswered leaves the signal as it found it.
 */

/** A pod call that waits until its signal aborts (then fails as fetch does) or `answer` is called. */
function pendingPod() {
  let answer: () => void = () => {};
  const fetch: FetchFn = (_url, init) =>
    new Promise((resolve, reject) => {
      const signal = init.signal!;
      signal.addEventListener("abort", () => reject(signal.reason));
      answer = () => resolve(new Response("{}", { headers: { "content-type": "application/json" } }));
    });
  return { fetch, answer: () => answer() };
}

const opts = (fetch: FetchFn, clientSignal: ClientSignal) => ({
  fetch,
  url: "http://pod/v1/chat/completions",
  headers: new Headers(),
  body: new Uint8Array(),
  clientSignal,
  responseTimeoutMs: 1000,
  setTimer: new FakeTime().setTimer,
});

describe("attempt's watch on the client", () => {
  test("a free onabort slot: taken while the call runs, the client leaving aborts it (client-gone)", async () => {
    const client = new AbortController();
    const listened: string[] = [];
    const add = client.signal.addEventListener.bind(client.signal);
    client.signal.addEventListener = ((type: string, fn: () => void) => {
      listened.push(type);
      add(type, fn);
    }) as typeof client.signal.addEventListener;
    const pod = pendingPod();
    const running = attempt(opts(pod.fetch, client.signal));
    expect(typeof client.signal.onabort).toBe("function");
    expect(listened).toEqual([]);
    client.abort(new Error("client left"));
    expect((await running).kind).toBe("client-gone");
  });

  test("a free slot, the pod answers: the watch stays for the answer's read", async () => {
    const client = new AbortController();
    const pod = pendingPod();
    const running = attempt(opts(pod.fetch, client.signal));
    pod.answer();
    const result = await running;
    expect(result.kind).toBe("response");
    expect(typeof client.signal.onabort).toBe("function");
    client.abort(new Error("client left"));
    if (result.kind === "response") expect(result.controller.signal.aborted).toBe(true);
  });

  test("an unanswered attempt (a retryable 503) frees the slot for the next one", async () => {
    const client = new AbortController();
    const fetch: FetchFn = async () => new Response("busy", { status: 503 });
    expect((await attempt(opts(fetch, client.signal))).kind).toBe("retryable");
    expect(client.signal.onabort).toBeNull();
  });

  test("a slot someone holds: attempt listens instead and leaves the holder in place", async () => {
    const client = new AbortController();
    let held = 0;
    const holder = () => {
      held++;
    };
    client.signal.onabort = holder;
    const pod = pendingPod();
    const running = attempt(opts(pod.fetch, client.signal));
    expect(client.signal.onabort).toBe(holder);
    client.abort(new Error("client left"));
    expect((await running).kind).toBe("client-gone");
    expect(held).toBe(1);
    expect(client.signal.onabort).toBe(holder);
  });

  test("a signal without the slot (a runtime's lighter one): an 'abort' listener, removed when unanswered", async () => {
    const listeners: (() => void)[] = [];
    const light: ClientSignal = {
      aborted: false,
      reason: undefined,
      addEventListener: (_type, fn) => void listeners.push(fn),
      removeEventListener: (_type, fn) => void listeners.splice(listeners.indexOf(fn), 1),
    };
    const fetch: FetchFn = async () => new Response("busy", { status: 503 });
    const running = attempt(opts(fetch, light));
    expect(listeners.length).toBe(1);
    expect("onabort" in light).toBe(false);
    expect((await running).kind).toBe("retryable");
    expect(listeners.length).toBe(0);
  });
});
