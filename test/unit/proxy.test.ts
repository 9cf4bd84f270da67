import { describe, expect, test } from "bun:test";
import { Closing } from "../../src/lifecycle.ts";
import { downstreamHeaders, upstreamHeaders } from "../../src/proxy/headers.ts";
import { relay } from "../../src/proxy/relay.ts";
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

function source(chunks: string[], failAfter?: number) {
  let i = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (failAfter !== undefined && i === failAfter) return c.error(new Error("pod died"));
        if (i >= chunks.length) return c.close();
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

function harness(sse = true) {
  const ends: Outcome[] = [];
  let aborts = 0;
  return {
    ends,
    aborts: () => aborts,
    opts: { sse, onEnd: (o: Outcome) => ends.push(o), abortUpstream: () => aborts++ },
  };
}

describe("relay", () => {
  test("passes every chunk through and ends once with success", async () => {
    const src = source(["data: a\n\n", "data: b\n\n"]);
    const h = harness();
    const text = await new Response(relay(src.stream, h.opts)).text();
    expect(text).toBe("data: a\n\ndata: b\n\n");
    expect(h.ends).toEqual(["success"]);
  });

  test("reads upstream only as fast as the client (no read-ahead)", async () => {
    const src = source(["1", "2", "3", "4"]);
    const reader = relay(src.stream, harness().opts).getReader();
    await reader.read();
    await flushMicrotasks(100);
    expect(src.read()).toBe(1);
  });

  test("a client cancel aborts upstream and ends once as aborted", async () => {
    const src = source(["1", "2", "3"]);
    const h = harness();
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
    const h = harness(true);
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
    const h = harness(true);
    const reader = relay(stream, { ...h.opts, idleTimeoutMs: 1000, ...time }).getReader();
    push("data: a\n\n");
    await reader.read();
    await time.advanceAsync(5000); // the client reads nothing for 5 s: no read pending, no timeout
    push("data: b\n\n");
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("data: b\n\n");
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
    const h = harness(true);
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
    const h2 = harness(true);
    const late = relay(src.stream, { ...h2.opts, closing }).getReader();
    expect(new TextDecoder().decode((await late.read()).value)).toContain("shutting_down");
  });

  test("a broken JSON body errors the response stream", async () => {
    const src = source(["{", "}"], 1);
    const h = harness(false);
    await expect(new Response(relay(src.stream, h.opts)).text()).rejects.toThrow();
    expect(h.ends).toEqual(["error"]);
  });
});
