/**
 * Run under Node by serve-node.test.ts (Bun's node:http is its own): serves small apps
 * through serveNode on loopback and prints what the clients and the apps saw as one JSON line.
 */
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { NodeRequest } from "../../src/runtime/node-request.ts";
import { nodeDirectStreams } from "../../src/runtime/node-relay.ts";
import { responseCacheKey } from "../../src/runtime/node-respond.ts";
import { serveNode } from "../../src/runtime/serve-node.ts";

const out: Record<string, unknown> = {};
const seen: Record<string, unknown> = {};
let pulls = 0;
/** Per path: the stream's cancel reason, and whether the request's signal had aborted by then. */
const cancels: Record<string, { reason: string; signalAborted: boolean }> = {};
/** Called when a stream is cancelled (the check waits on the event, not on the clock). */
let onCancel: ((path: string) => void) | undefined;
const signals: Record<string, AbortSignal> = {};
const enc = new TextEncoder();

const server = await serveNode({
  port: 0,
  hostname: "127.0.0.1",
  fetch: async (request) => {
    const url = new URL(request.url);
    seen[url.pathname] = request instanceof NodeRequest;
    if (url.pathname === "/json") {
      const body = await request.json();
      return new Response(JSON.stringify({ got: body, ct: request.headers.get("content-type") }), {
        headers: { "content-type": "application/json" },
      });
    }
    if (url.pathname === "/too-large") return new Response("too large", { status: 413 });
    if (url.pathname === "/cookies") {
      const headers = new Headers({ constructor: "x" });
      headers.append("set-cookie", "a=1");
      headers.append("set-cookie", "b=2");
      return new Response("ok", { headers });
    }
    if (url.pathname === "/text") return new Response(`${request.method} ${await request.text()}`);
    if (url.pathname === "/endless" || url.pathname === "/leave") {
      const signal = request.signal;
      signals[url.pathname] = signal;
      const chunk = enc.encode("x".repeat(256 * 1024));
      return new Response(
        new ReadableStream<Uint8Array>(
          {
            pull(c) {
              pulls++;
              c.enqueue(chunk);
            },
            cancel(reason) {
              const message = reason instanceof Error ? reason.message : String(reason);
              cancels[url.pathname] = { reason: message, signalAborted: signal.aborted };
              onCancel?.(url.pathname);
            },
          },
          { highWaterMark: 0 },
        ),
        { headers: { "content-type": "text/event-stream" } },
      );
    }
    if (url.pathname === "/direct" || url.pathname === "/direct-rewrapped") {
      // The relay's Node shape (node-relay.ts) over a source that writes three chunks.
      const source = {
        async pull(c: { write(b: Uint8Array): number | Promise<number>; close(): void }) {
          for (const part of ["data: 1\n\n", "data: 2\n\n", "data: 3\n\n"]) await c.write(enc.encode(part));
          c.close();
        },
        cancel: async () => {},
      };
      const answer = new Response(nodeDirectStreams(source), { headers: { "content-type": "text/event-stream" } });
      // A stage that wraps the answer reads its body as a stream (the platform's Response over it).
      return url.pathname === "/direct" ? answer : new Response(answer.body, answer);
    }
    return new Response("not here", { status: 404 });
  },
});
const base = `http://127.0.0.1:${server.port}`;

out["cacheKeyFound"] = responseCacheKey() !== undefined;

const json = await fetch(`${base}/json`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: '{"a":1}',
});
out["json"] = {
  status: json.status,
  length: json.headers.get("content-length"),
  type: json.headers.get("content-type"),
  body: await json.json(),
};
const text = await fetch(`${base}/text`, { method: "POST", body: "hi" });
out["text"] = { type: text.headers.get("content-type"), body: await text.text() };
const cookies = await fetch(`${base}/cookies`, { method: "POST" });
out["cookies"] = { setCookie: cookies.headers.getSetCookie(), constructor: cookies.headers.get("constructor") };
// A GET takes node-server's path, as before.
await (await fetch(`${base}/text`)).text();
out["seen"] = { ...seen };

// The relay's Node shape: written by our writer, by node-server's (a host it does not take as
// plain), and read as a stream by a wrapping Response.
const directText = async (path: string, host?: string) =>
  new Promise<string>((resolve, reject) => {
    const req = httpRequest(
      `${base}${path}`,
      { method: "POST", ...(host ? { headers: { host } } : {}) },
      (res) => {
        let got = "";
        res.on("data", (d: Buffer) => {
          got += d.toString();
        });
        res.on("end", () => resolve(got));
      },
    );
    req.on("error", reject);
    req.end("{}");
  });
out["direct"] = {
  own: await directText("/direct"),
  nodeServer: await directText("/direct", "Odd.Host"),
  rewrapped: await directText("/direct-rewrapped"),
};

// An answer that did not read the body: the rest of the body is drained, the connection carries the next request.
out["keepAlive"] = await new Promise<string[]>((resolve) => {
  const socket = connect(server.port, "127.0.0.1");
  const big = "y".repeat(200_000);
  let got = "";
  socket.on("data", (d) => {
    got += d.toString("latin1");
    const answers = got.match(/HTTP\/1\.1 \d+/g) ?? [];
    if (answers.length === 2 && got.endsWith("POST again")) {
      socket.destroy();
      resolve(answers);
    }
  });
  socket.write(
    `POST /too-large HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${big.length}\r\n\r\n${big}` +
      "POST /text HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nagain",
  );
});

// A client that stops reading: the stream is read no further than the socket's buffers allow.
await new Promise<void>((resolve) => {
  const req = httpRequest(`${base}/endless`, { method: "POST" }, (res) => {
    res.pause();
    const check = (last: number, stable: number) =>
      setTimeout(() => {
        if (pulls === last && stable >= 5) {
          out["pullsWhileNotReading"] = pulls;
          req.destroy();
          resolve();
        } else check(pulls, pulls === last ? stable + 1 : 0);
      }, 20);
    check(-1, 0);
  });
  req.end("{}");
});

// A client that leaves mid-stream: the stream is cancelled and the request's signal aborts.
await new Promise<void>((resolve) => {
  const req = httpRequest(`${base}/leave`, { method: "POST" }, (res) => {
    res.once("data", () => req.destroy());
  });
  req.on("error", () => {});
  onCancel = (path) => {
    if (path === "/leave") resolve();
  };
  req.end("{}");
});
out["leave"] = { ...cancels["/leave"], signalNow: signals["/leave"]?.aborted };

console.log(JSON.stringify(out));
await server.close();
