import { describe, expect, test } from "bun:test";
import { Closing } from "../../src/lifecycle.ts";
import { downstreamHeaders, upstreamHeaders } from "../../src/proxy/headers.ts";
import { type DirectController, relay, send } from "../../src/proxy/relay.ts";
import type { Outcome } from "../../src/scope.ts";
import { FakeTime, flushMicrotasks } from "../helpers/fake-time.ts";

const enc = new TextEncoder();

describe("header hygiene", () => {
  test("hop-by-hop, Connection-listed, gateway-owned headers and credentials are not forwarded", () => {
    const client = new Headers({
      connection: "keep-alive, x-secret-hop",
      "keep-alive": "timeout=5",
      "x-secret-hop": "1",
      "transfer-encoding": "chunked",
      authorization: "Bearer sk-client",
      "x-gateway-destination-endpoint": "10.0.0.9:8000",
      "x-custom": "kept",
    });
    const out = upstreamHeaders(client, { forwardAuthorization: false });
    expect([...out.keys()].sort()).toEqual(["accept-encoding", "x-custom"]);
    expect(upstreamHeaders(client, { forwardAuthorization: true }).get("authorization")).toBe(
      "Bearer sk-client",
    );
  });

  test("every credential header the gateway reads, and every header that steers it, stays with it", () => {
    const client = new Headers({
      authorization: "Bearer sk-client",
      "x-api-key": "sk-client",
      "x-gateway-model-name-rewrite": "m2",
      "x-llm-d-model-name-rewrite": "m2",
      "x-gateway-inference-objective": "critical",
      "x-llm-d-inference-fairness-id": "tenant",
      "x-llm-d-destination-endpoint": "10.0.0.9:8000",
      "x-slo-ttft-ms": "200",
      "x-custom": "kept",
    });
    expect([...upstreamHeaders(client, { forwardAuthorization: false }).keys()].sort()).toEqual([
      "accept-encoding",
      "x-custom",
    ]);
    const forwarded = upstreamHeaders(client, { forwardAuthorization: true });
    expect(forwarded.get("x-api-key")).toBe("sk-client");
    expect(forwarded.get("x-gateway-model-name-rewrite")).toBeNull();
  });

  test("response headers lose framing and hop-by-hop headers", () => {
    const out = downstreamHeaders(
      new Headers({
        "content-length": "10",
        "content-type": "application/json",
        connection: "close",
        "x-pod": "a",
      }),
    );
    expect([...out.keys()].sort()).toEqual(["content-type", "x-pod"]);
  });
});

/** A pod's body: `chunks`, then the end (or a break after `failAfter` chunks, or silence when `hang`). */
function source(chunks: string[], failAfter?: number, hang = false) {
  let i = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (failAfter !== undefined && i === failAfter) return c.error(new Error("pod died"));
        if (i >= chunks.length) return hang ? new Promise<void>(() => {}) : c.close();
        c.enqueue(enc.encode(chunks[i++]!));
      },
      cancel() {
        cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, cancelled: () => cancelled, read: () => i };
}

function harness(sse = true, direct = false) {
  const ends: Outcome[] = [];
  let aborts = 0;
  return {
    ends,
    aborts: () => aborts,
    opts: { sse, direct, onEnd: (o: Outcome) => ends.push(o), abortUpstream: () => aborts++ },
  };
}

// Both shapes of the relay: Bun's direct stream (what Bun.serve gets) and the standard one (elsewhere).
for (const direct of [false, true])
  describe(`relay (${direct ? "Bun's direct stream" : "standard stream"})`, () => {
    test("passes every chunk through and ends once with success", async () => {
      const src = source(["data: a\n\n", "data: b\n\n"]);
      const h = harness(true, direct);
      const text = await new Response(relay(src.stream, h.opts)).text();
      expect(text).toBe("data: a\n\ndata: b\n\n");
      expect(h.ends).toEqual(["success"]);
    });

    test("reads upstream only as fast as the client (read-ahead: none, or what the destination holds)", async () => {
      const kib16 = "x".repeat(16 * 1024);
      const src = source(Array.from({ length: 80 }, () => kib16));
      const reader = relay(src.stream, harness(true, direct).opts).getReader();
      await reader.read();
      await flushMicrotasks(100);
      // A direct stream's reader holds ~64-128 KiB (Bun.serve: the socket's buffers) before `write` waits.
      expect(src.read()).toBeLessThanOrEqual(direct ? 10 : 1);
    });

    test("a client cancel aborts upstream and ends once as aborted", async () => {
      const src = source(["1", "2", "3"], undefined, true);
      const h = harness(true, direct);
      const reader = relay(src.stream, h.opts).getReader();
      await reader.read();
      await reader.cancel("client left");
      await reader.cancel("again");
      expect(h.ends).toEqual(["aborted"]);
      expect(h.aborts()).toBe(1);
      expect(src.cancelled()).toBe(true);
    });

    test("a broken SSE stream ends with an error event the client can see", async () => {
      const src = source(["data: a\n\n", "data: b\n\n"], 1);
      const h = harness(true, direct);
      const text = await new Response(relay(src.stream, h.opts)).text();
      expect(text).toStartWith("data: a\n\n");
      const last = text.trim().split("\n\n").at(-1)!;
      expect(JSON.parse(last.slice("data: ".length)).error.code).toBe("upstream_stream_error");
      expect(h.ends).toEqual(["error"]);
    });

    test("a silent upstream past idleTimeoutMs ends with an error event; a slow client is not taken for a silent pod", async () => {
      const time = new FakeTime();
      let push!: (s: string) => void;
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          push = (s) => c.enqueue(enc.encode(s));
        },
      });
      const h = harness(true, direct);
      const reader = relay(stream, { ...h.opts, idleTimeoutMs: 1000, ...time }).getReader();
      // b is more than the client's side holds (a direct stream's `write` waits for room).
      const b = `data: ${"b".repeat(100 * 1024)}\n\n`;
      push("data: a\n\n");
      expect(new TextDecoder().decode((await reader.read()).value)).toBe("data: a\n\n");
      push(b);
      await flushMicrotasks(20);
      await time.advanceAsync(5000); // the client takes nothing for 5 s: no read of the pod pending, no timeout
      expect(h.ends).toEqual([]);
      let got = "";
      while (got.length < b.length) got += new TextDecoder().decode((await reader.read()).value);
      expect(got).toBe(b);
      const next = reader.read(); // now a read waits on the pod
      await time.advanceAsync(999);
      expect(h.ends).toEqual([]);
      await time.advanceAsync(1);
      const last = new TextDecoder().decode((await next).value);
      expect(JSON.parse(last.slice("data: ".length)).error.code).toBe("upstream_stream_error");
      expect(h.ends).toEqual(["error"]);
      expect(h.aborts()).toBe(1);
    });

    test("shutdown ends a waiting stream with a shutting_down error event and aborts the upstream", async () => {
      const closing = new Closing();
      const src = source(["data: a\n\n"]);
      const never = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(enc.encode("data: a\n\n")) });
      const h = harness(true, direct);
      const reader = relay(never, { ...h.opts, closing }).getReader();
      await reader.read();
      const pending = reader.read();
      closing.close();
      const text = new TextDecoder().decode((await pending).value);
      expect(JSON.parse(text.slice("data: ".length)).error.code).toBe("shutting_down");
      expect((await reader.read()).done).toBe(true);
      expect(h.ends).toEqual(["error"]);
      expect(h.aborts()).toBe(1);
      // A stream between reads sees the shutdown on its next pull.
      const h2 = harness(true, direct);
      const late = relay(src.stream, { ...h2.opts, closing }).getReader();
      expect(new TextDecoder().decode((await late.read()).value)).toContain("shutting_down");
    });

    test("a chunk attempt already read goes out at the first pull, without waiting on a read", async () => {
      let reads = 0;
      const ready = () => ({ done: false as const, value: enc.encode("data: a\n\n") });
      const hanging = {
        read: () => {
          reads++;
          return new Promise<never>(() => {});
        },
        cancel: async () => {},
      };
      const reader = relay({ ...hanging, ready }, harness(true, direct).opts).getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toBe("data: a\n\n");
      expect(reads).toBeLessThanOrEqual(direct ? 1 : 0); // the direct loop goes on to the next read
      // Shutdown before the first pull: the error event, not the chunk.
      const closing = new Closing();
      closing.close();
      const late = relay({ ...hanging, ready }, { ...harness(true, direct).opts, closing }).getReader();
      expect(new TextDecoder().decode((await late.read()).value)).toContain("shutting_down");
    });

    test("a broken JSON body errors the response stream", async () => {
      const src = source(["{", "}"], 1);
      const h = harness(false, direct);
      await expect(new Response(relay(src.stream, h.opts)).text()).rejects.toThrow();
      expect(h.ends).toEqual(["error"]);
    });
  });

describe("direct stream writes (Bun)", () => {
  /** A direct controller that records calls; `full` makes writes wait for room. */
  function fake(full = false) {
    const calls: string[] = [];
    let room: () => void = () => {};
    const controller: DirectController = {
      write: (b) => {
        calls.push(`write ${new TextDecoder().decode(b)}`);
        return full ? new Promise<number>((r) => (room = () => r(b.byteLength))) : b.byteLength;
      },
      flush: () => {
        calls.push("flush");
        return 0;
      },
      close: () => calls.push("close"),
    };
    return { controller, calls, room: () => room() };
  }

  test("what the socket takes at once is flushed at once (Bun's own flush came 90-160 µs later)", async () => {
    const f = fake();
    expect(send(f.controller, enc.encode("a"), true)).toBeUndefined();
    await send(f.controller, [enc.encode("b"), enc.encode("c")], true);
    expect(f.calls).toEqual(["write a", "flush", "write b", "write c", "flush"]);
  });

  test("the last bytes wait for the close, and a full destination is waited on, not flushed", async () => {
    const f = fake();
    send(f.controller, enc.encode("end"), false);
    expect(f.calls).toEqual(["write end"]);
    const full = fake(true);
    const waiting = send(full.controller, enc.encode("x"), true);
    expect(waiting).toBeInstanceOf(Promise);
    full.room();
    await waiting;
    expect(full.calls).toEqual(["write x"]);
  });
});
