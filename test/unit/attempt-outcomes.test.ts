import { describe, expect, test } from "bun:test";
import type { FetchFn } from "../../src/deps.ts";
import { Closing } from "../../src/lifecycle.ts";
import { type AttemptOptions, attempt, type ClientSignal } from "../../src/proxy/attempt.ts";
import { FakeTime } from "../helpers/fake-time.ts";

/**
 * Issue 19, fourteenth pass: what each of attempt's outcomes leaves watching (written to check
 * attempt as a `then` chain against the async function, which was measured and not kept; both
 * pass). The timer is always cancelled and the shutdown watch always ended; the client's watch
 * is kept only for an answer (the caller still reads it with the same controller).
 */

/** A lighter client signal (no onabort slot: attempt listens), counting its listeners. */
function lightClient() {
  const listeners = new Set<() => void>();
  const signal: ClientSignal = {
    aborted: false,
    reason: undefined,
    addEventListener: (_type, fn) => void listeners.add(fn),
    removeEventListener: (_type, fn) => void listeners.delete(fn),
  };
  return { signal, listeners };
}

function setup(fetch: FetchFn, extra: Partial<AttemptOptions> = {}) {
  const time = new FakeTime();
  const closing = new Closing();
  const client = lightClient();
  const options: AttemptOptions = {
    fetch,
    url: "http://pod/v1/chat/completions",
    headers: new Headers(),
    body: new Uint8Array(),
    clientSignal: client.signal,
    responseTimeoutMs: 1000,
    setTimer: time.setTimer,
    closing,
    ...extra,
  };
  return { time, closing, client, options };
}

const json = () => new Response("{}", { headers: { "content-type": "application/json" } });

describe("attempt's outcomes and the watches each leaves", () => {
  test("a fetch that throws at once: retryable with its message, nothing watched", async () => {
    const s = setup(() => {
      throw new Error("bad url");
    });
    const result = await attempt(s.options);
    expect(result).toEqual({ kind: "retryable", reason: "bad url" });
    expect(s.time.pending).toBe(0);
    expect(s.client.listeners.size).toBe(0);
  });

  test("a call that fails: retryable with its message, every watch ended", async () => {
    let seen: AbortSignal | undefined;
    const s = setup(async (_url, init) => {
      seen = init.signal!;
      throw new Error("connection refused");
    });
    const result = await attempt(s.options);
    expect(result).toEqual({ kind: "retryable", reason: "connection refused" });
    expect(s.time.pending).toBe(0);
    expect(s.client.listeners.size).toBe(0);
    s.closing.close();
    expect(seen!.aborted).toBe(false); // no longer watched by shutdown
  });

  test("a retryOn status: retryable with the answer, every watch ended", async () => {
    const s = setup(async () => new Response("busy", { status: 503 }));
    const result = await attempt(s.options);
    expect(result.kind).toBe("retryable");
    if (result.kind === "retryable") {
      expect(result.status).toBe(503);
      expect(await result.response!.text()).toBe("busy");
    }
    expect(s.time.pending).toBe(0);
    expect(s.client.listeners.size).toBe(0);
  });

  test("an answer: the timer and shutdown watch ended, the client's watch kept", async () => {
    const s = setup(async () => json());
    const result = await attempt(s.options);
    expect(result.kind).toBe("response");
    expect(s.time.pending).toBe(0);
    expect(s.client.listeners.size).toBe(1);
    s.closing.close();
    if (result.kind === "response") {
      expect(result.controller.signal.aborted).toBe(false);
      // The client leaves: its signal calls the listener with its abort event.
      for (const fn of s.client.listeners) (fn as (event: unknown) => void)({ type: "abort" });
      expect(result.controller.signal.aborted).toBe(true);
    }
  });

  test("no answer in time: retryable naming the limit, every watch ended", async () => {
    const s = setup(
      (_url, init) =>
        new Promise((_, reject) => init.signal!.addEventListener("abort", () => reject(init.signal!.reason))),
    );
    const running = attempt(s.options);
    s.time.advance(1000);
    expect(await running).toEqual({ kind: "retryable", reason: "no response within 1000 ms" });
    expect(s.time.pending).toBe(0);
    expect(s.client.listeners.size).toBe(0);
  });

  test("shutdown during the call: shutdown, every watch ended", async () => {
    const s = setup(
      (_url, init) =>
        new Promise((_, reject) => init.signal!.addEventListener("abort", () => reject(init.signal!.reason))),
    );
    const running = attempt(s.options);
    s.closing.close();
    expect(await running).toEqual({ kind: "shutdown" });
    expect(s.time.pending).toBe(0);
    expect(s.client.listeners.size).toBe(0);
  });

  test("reading the answer's head throws: retryable with the message, every watch ended", async () => {
    const broken = {
      status: 200,
      ok: true,
      headers: new Headers({ "content-type": "text/event-stream" }),
      get body(): never {
        throw new Error("no body today");
      },
    } as unknown as Response;
    const s = setup(async () => broken, { firstByteTimeoutMs: 500 });
    expect(await attempt(s.options)).toEqual({ kind: "retryable", reason: "no body today" });
    expect(s.time.pending).toBe(0);
    expect(s.client.listeners.size).toBe(0);
  });

  test("a stream whose first read fails: broken, every watch ended", async () => {
    const body = new ReadableStream<Uint8Array>({
      pull: (c) => c.error(new Error("reset")),
    });
    const s = setup(async () => new Response(body, { headers: { "content-type": "text/event-stream" } }), {
      firstByteTimeoutMs: 500,
    });
    const result = await attempt(s.options);
    expect(result).toEqual({
      kind: "retryable",
      reason: "its answer could not be read (reset)",
      broken: true,
    });
    expect(s.time.pending).toBe(0);
    expect(s.client.listeners.size).toBe(0);
  });

  test("a stream with its first chunk in: its source, the client's watch kept, the rest ended", async () => {
    const bytes = new TextEncoder().encode("data: {}\n\n");
    const s = setup(async () => new Response(bytes, { headers: { "content-type": "text/event-stream" } }), {
      firstByteTimeoutMs: 500,
    });
    const result = await attempt(s.options);
    expect(result.kind).toBe("response");
    if (result.kind === "response") {
      const first = await result.body!.read();
      expect(first.done).toBe(false);
      expect(new TextDecoder().decode(first.value)).toBe("data: {}\n\n");
    }
    expect(s.time.pending).toBe(0);
    expect(s.client.listeners.size).toBe(1);
  });

  test("a client gone before the call: client-gone, nothing left watching it", async () => {
    const s = setup(async (_url, init) => {
      throw init.signal!.reason;
    });
    const gone = { ...s.client.signal, aborted: true, reason: new Error("left") };
    const result = await attempt({ ...s.options, clientSignal: gone });
    expect(result).toEqual({ kind: "client-gone" });
    expect(s.time.pending).toBe(0);
    expect(s.client.listeners.size).toBe(0);
  });
});
