import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { bunUpstreamFetch, wireFetch } from "../../src/runtime/bun-wire.ts";
import { LightAbortController } from "../../src/runtime/node-abort.ts";
import { type NodePod, startNodePod } from "../helpers/node-pod.ts";

type Chunks = { read(): Promise<ReadableStreamReadResult<Uint8Array>>; cancel(r?: unknown): Promise<void> };
const chunksOf = (res: Response) =>
  (res as unknown as Record<symbol, () => Chunks | undefined>)[
    Symbol.for("inference-gateway.chunkSource")
  ]!()!;
const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

/** Reads a body to its end through `read`; the text, or the text and the error that ended it. */
async function drain(read: () => Promise<{ done: boolean; value?: Uint8Array }>): Promise<string> {
  let out = "";
  try {
    for (let r = await read(); !r.done; r = await read()) out += text(r.value);
    return out;
  } catch (err) {
    return `${out}<error: ${(err as Error).message}>`;
  }
}

const EVENTS = `${Array.from({ length: 30 }, (_, i) => `data: ${i}\n\n`).join("")}data: [DONE]\n\n`;
/** Ports of the sockets the pod saw, in order of requests. */
const seen: number[] = [];
let closedMidStream: () => void = () => {};
let pod: NodePod;
let base = "";

function handle(req: IncomingMessage, res: ServerResponse): void {
  seen.push(req.socket.remotePort ?? 0);
  const url = req.url ?? "";
  if (url === "/echo") {
    const parts: Buffer[] = [];
    req.on("data", (d: Buffer) => parts.push(d));
    req.on("end", () => {
      const body = Buffer.concat(parts);
      res.setHeader("content-type", "application/json");
      res.setHeader("set-cookie", ["a=1", "b=2"]);
      res.end(
        JSON.stringify({
          method: req.method,
          length: body.byteLength,
          head: body.subarray(0, 20).toString(),
          headers: req.headers,
        }),
      );
    });
  } else if (url === "/chunked") {
    res.setHeader("content-type", "application/json");
    res.write('{"a":');
    setTimeout(() => res.end("1}"), 2);
  } else if (url === "/events") {
    res.setHeader("content-type", "text/event-stream");
    for (let i = 0; i < 20; i++) res.write(`data: ${i}\n\n`);
    let i = 20;
    const timer = setInterval(() => {
      res.write(`data: ${i++}\n\n`);
      if (i === 30) {
        clearInterval(timer);
        res.end("data: [DONE]\n\n");
      }
    }, 1);
  } else if (url === "/stream") {
    res.setHeader("content-type", "text/event-stream");
    let i = 0;
    const timer = setInterval(() => res.write(`data: ${i++}\n\n`), 2);
    res.on("close", () => {
      clearInterval(timer);
      if (!res.writableEnded) closedMidStream();
    });
  } else if (url === "/broken") {
    res.setHeader("content-type", "text/event-stream");
    res.write("data: 0\n\n");
    setTimeout(() => res.destroy(), 5);
  } else if (url === "/close") {
    res.setHeader("connection", "close");
    res.end("bye");
  } else if (url === "/empty") {
    res.statusCode = 204;
    res.end();
  } else if (url === "/not-modified") {
    res.statusCode = 304;
    res.end();
  } else if (url === "/gzip") {
    res.setHeader("content-type", "application/json");
    res.setHeader("content-encoding", "gzip");
    res.end(gzipSync('{"zipped":true}'));
  } else if (url === "/silent") {
    // never answers
  } else res.end(`path ${url}`);
}

beforeAll(async () => {
  pod = await startNodePod(handle);
  base = pod.base;
});
afterAll(() => pod.close());

describe("wireFetch against a node:http pod", () => {
  const wire = wireFetch();
  afterAll(() => wire.close());

  test("headers and body out, status, headers (repeated names too) and bytes back", async () => {
    const res = await wire(`${base}/echo`, {
      method: "POST",
      headers: new Headers({ "content-type": "application/json", "x-custom": "kept" }),
      body: new TextEncoder().encode('{"a":1}'),
    });
    expect(res.status).toBe(200);
    expect(res).toBeInstanceOf(Response);
    expect(res.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    const json = (await res.json()) as { method: string; head: string; headers: Record<string, string> };
    expect(json.method).toBe("POST");
    expect(json.head).toBe('{"a":1}');
    expect(json.headers["x-custom"]).toBe("kept");
    expect(json.headers["content-length"]).toBe("7");
    expect(json.headers["host"]).toBe(base.slice(7));
  });

  test("a chunked answer is read whole", async () => {
    const res = await wire(`${base}/chunked`, { method: "GET" });
    expect(await res.json()).toEqual({ a: 1 });
  });

  test("an event stream arrives chunk by chunk, as chunks (CHUNK_SOURCE) or as a web stream", async () => {
    const viaChunks = await wire(`${base}/events`, { method: "GET" });
    expect(viaChunks.headers.get("content-type")).toBe("text/event-stream");
    const chunks = chunksOf(viaChunks);
    expect(await drain(() => chunks.read())).toBe(EVENTS);
    const viaStream = await wire(`${base}/events`, { method: "GET" });
    const reader = viaStream.body!.getReader();
    expect(await drain(() => reader.read())).toBe(EVENTS);
  });

  test("sequential calls reuse one socket", async () => {
    await (await wire(`${base}/x`, { method: "GET" })).text();
    const from = seen.length;
    for (let i = 0; i < 5; i++)
      expect(await (await wire(`${base}/x`, { method: "GET" })).text()).toBe("path /x");
    expect(new Set(seen.slice(from)).size).toBe(1);
  });

  test("an answer's bytes (handed over without a copy) stay as they were while the socket reads on", async () => {
    // bytes() gives a view into the buffer the socket read the answer into: the socket must
    // never read a later answer into that buffer (eleventh pass; respond.ts relies on it).
    const kept: Uint8Array[] = [];
    for (let i = 0; i < 6; i++) kept.push(await (await wire(`${base}/n${i}`, { method: "GET" })).bytes());
    expect(kept.map(text)).toEqual(Array.from({ length: 6 }, (_, i) => `path /n${i}`));
  });

  test("after Connection: close the next call opens a new socket", async () => {
    expect(await (await wire(`${base}/close`, { method: "GET" })).text()).toBe("bye");
    const port = seen.at(-1);
    await (await wire(`${base}/x`, { method: "GET" })).text();
    expect(seen.at(-1)).not.toBe(port);
  });

  test("HEAD, 204 and 304 have no body", async () => {
    const head = await wire(`${base}/echo`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.body).toBeNull();
    expect((await wire(`${base}/empty`, { method: "GET" })).body).toBeNull();
    expect((await wire(`${base}/not-modified`, { method: "GET" })).status).toBe(304);
    // and the socket still carries the next call
    expect(await (await wire(`${base}/x`, { method: "GET" })).text()).toBe("path /x");
  });

  test("request bodies on either side of the one-buffer limit (8 KiB) arrive whole", async () => {
    for (const size of [8 * 1024, 8 * 1024 + 1, 30 * 1024]) {
      const body = new Uint8Array(size).fill(66);
      const json = (await (await wire(`${base}/echo`, { method: "POST", body })).json()) as {
        length: number;
      };
      expect(json.length).toBe(size);
    }
  });

  test("a large request body arrives whole", async () => {
    const big = new Uint8Array(8 << 20).fill(65);
    big.set(new TextEncoder().encode("first"), 0);
    const res = await wire(`${base}/echo`, { method: "POST", body: big });
    const json = (await res.json()) as { length: number; head: string };
    expect(json.length).toBe(8 << 20);
    expect(json.head.startsWith("firstAAA")).toBe(true);
  });

  test("an abort before the answer rejects with the signal's reason (AbortSignal and the light one)", async () => {
    const c = new AbortController();
    const pending = wire(`${base}/silent`, { method: "POST", body: "{}", signal: c.signal });
    queueMicrotask(() => c.abort(new Error("gave up waiting")));
    expect(
      await pending.then(
        () => "answered",
        (e: Error) => e.message,
      ),
    ).toBe("gave up waiting");
    const light = new LightAbortController();
    const pending2 = wire(`${base}/silent`, { method: "POST", body: "{}", signal: light.signal as never });
    queueMicrotask(() => light.abort(new Error("client left")));
    expect(
      await pending2.then(
        () => "answered",
        (e: Error) => e.message,
      ),
    ).toBe("client left");
    const already = new AbortController();
    already.abort(new Error("too late"));
    expect(await wire(`${base}/x`, { signal: already.signal }).catch((e: Error) => e.message)).toBe(
      "too late",
    );
  });

  test("an abort during the body fails the pending read and closes the pod's connection", async () => {
    const gone = new Promise<void>((r) => {
      closedMidStream = r;
    });
    const c = new AbortController();
    const res = await wire(`${base}/stream`, { method: "GET", signal: c.signal });
    const chunks = chunksOf(res);
    expect(text((await chunks.read()).value)).toBe("data: 0\n\n");
    const next = chunks.read().then(
      () => "read",
      (e: Error) => e.message,
    );
    c.abort(new Error("client left"));
    expect(await next).toBe("client left");
    await gone; // the pod saw the connection close
  });

  test("cancelling the body closes the pod's connection", async () => {
    const gone = new Promise<void>((r) => {
      closedMidStream = r;
    });
    const res = await wire(`${base}/stream`, { method: "GET" });
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    await gone;
  });

  test("a pod that breaks off mid-body errors the read", async () => {
    const res = await wire(`${base}/broken`, { method: "GET" });
    const chunks = chunksOf(res);
    expect(await drain(() => chunks.read())).toMatch(
      /^data: 0\n\n<error: .*closed the connection in the middle of its answer/,
    );
  });

  test("a refused port rejects, naming the address", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const err = await wire(`http://127.0.0.1:${port}/x`, { method: "GET" }).catch((e: Error) => e.message);
    expect(err).toContain(`127.0.0.1:${port}`);
    expect(err).toContain("ECONNREFUSED");
  });
});

describe("wireFetch against a Bun.serve pod", () => {
  test("JSON and a paced event stream", async () => {
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch(req) {
        if (new URL(req.url).pathname === "/json")
          return Response.json({ ok: true, got: req.headers.get("x-a") });
        return new Response(
          new ReadableStream({
            async start(c) {
              for (let i = 0; i < 5; i++) {
                c.enqueue(new TextEncoder().encode(`data: ${i}\n\n`));
                await Bun.sleep(1);
              }
              c.close();
            },
          }),
          { headers: { "content-type": "text/event-stream" } },
        );
      },
    });
    const wire = wireFetch();
    try {
      const url = `http://127.0.0.1:${server.port}`;
      const json = await wire(`${url}/json`, { method: "POST", headers: [["x-a", "1"]], body: "{}" });
      expect(await json.json()).toEqual({ ok: true, got: "1" });
      const chunks = chunksOf(await wire(`${url}/sse`, { method: "POST", body: "{}" }));
      expect(await drain(() => chunks.read())).toBe(
        "data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n",
      );
    } finally {
      wire.close();
      server.stop(true);
    }
  });
});

describe("the Bun entry's upstream fetch", () => {
  test("the wire client, gzip answers decoded, attempt offered its light controller; GATEWAY_UPSTREAM_CLIENT=fetch opts out", async () => {
    expect(bunUpstreamFetch({ GATEWAY_UPSTREAM_CLIENT: "fetch" })).toBeUndefined();
    const upstream = bunUpstreamFetch({})!;
    expect(
      typeof (upstream as unknown as Record<symbol, unknown>)[
        Symbol.for("inference-gateway.abortController")
      ],
    ).toBe("function");
    const res = await upstream(`${base}/gzip`, { method: "GET" });
    expect(await res.json()).toEqual({ zipped: true });
  });
});

describe("what goes to Bun's fetch instead", () => {
  test("https, a streamed body, Upgrade, and init fields it does not handle", async () => {
    const calls: string[] = [];
    const wire = wireFetch({
      fallback: async (url) => {
        calls.push(url);
        return new Response("fallback");
      },
    });
    await wire("https://example.invalid/x", { method: "GET" });
    await wire(`${base}/a`, { method: "POST", body: new ReadableStream() });
    await wire(`${base}/b`, { method: "GET", headers: { upgrade: "websocket", connection: "upgrade" } });
    await wire(`${base}/c`, { method: "GET", redirect: "follow" });
    await wire(`${base}/d é`, { method: "GET" });
    expect(calls).toEqual([
      "https://example.invalid/x",
      `${base}/a`,
      `${base}/b`,
      `${base}/c`,
      `${base}/d é`,
    ]);
    expect(wire.pools.size).toBe(0);
  });

  test("a malformed origin goes to fetch, before and after a good one has a pool (read once per pool)", async () => {
    const calls: string[] = [];
    const wire = wireFetch({
      fallback: async (url) => {
        calls.push(url);
        return new Response("fallback");
      },
    });
    const odd = ["http://user@127.0.0.1:1/x", "http://[::1/x", "http://127.0.0.1:99999/x", "http://:80/x"];
    for (const url of odd) await wire(url, { method: "GET" });
    expect(await (await wire(`${base}/x`, { method: "GET" })).text()).toBe("path /x");
    expect(await (await wire(`${base}/y`, { method: "GET" })).text()).toBe("path /y");
    for (const url of odd) await wire(url, { method: "GET" });
    expect(calls).toEqual([...odd, ...odd]);
    expect([...wire.pools.keys()]).toEqual([base.slice(7)]);
    wire.close();
  });
});
