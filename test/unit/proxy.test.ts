import { describe, expect, test } from "bun:test";
import { downstreamHeaders, upstreamHeaders } from "../../src/proxy/headers.ts";
import { relay } from "../../src/proxy/relay.ts";
import type { Outcome } from "../../src/scope.ts";

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
    await Bun.sleep(5);
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

  test("a broken JSON body errors the response stream", async () => {
    const src = source(["{", "}"], 1);
    const h = harness(false);
    await expect(new Response(relay(src.stream, h.opts)).text()).rejects.toThrow();
    expect(h.ends).toEqual(["error"]);
  });
});
