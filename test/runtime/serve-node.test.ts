import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

// Under Node, because Bun's node:http is its own implementation.
test("serveNode: POSTs on the Node path (its own Request and writer), answers, keep-alive, backpressure and a client that leaves", () => {
  const script = fileURLToPath(new URL("./serve-node-check.mts", import.meta.url));
  const run = spawnSync("node", ["--import", "tsx", script], { encoding: "utf8", timeout: 30_000 });
  expect(run.stderr).toBe("");
  const out = JSON.parse(run.stdout.trim().split("\n").at(-1)!);
  // The installed @hono/node-server's Response is read without building a platform Response.
  expect(out.cacheKeyFound).toBe(true);
  expect(out.json).toEqual({
    status: 200,
    length: "39",
    type: "application/json",
    body: { got: { a: 1 }, ct: "application/json" },
  });
  // node-server's default content-type for a text body without one.
  expect(out.text).toEqual({ type: "text/plain; charset=UTF-8", body: "POST hi" });
  // Repeated names stay separate; any token is a header name, "constructor" too.
  expect(out.cookies).toEqual({ setCookie: ["a=1", "b=2"], constructor: "x" });
  expect(out.seen).toEqual({ "/json": true, "/text": false, "/cookies": true });
  // The relay's Node shape, whoever writes or reads it: our writer, node-server's, a wrapping Response.
  const events = "data: 1\n\ndata: 2\n\ndata: 3\n\n";
  expect(out.direct).toEqual({ own: events, nodeServer: events, rewrapped: events });
  // The 413 did not read its 200 kB body; the next request on the same connection is still answered.
  expect(out.keepAlive).toEqual(["HTTP/1.1 413", "HTTP/1.1 200"]);
  // 256 KiB chunks into a paused client: a bounded number read (socket buffers), not an endless stream.
  expect(out.pullsWhileNotReading).toBeGreaterThan(0);
  expect(out.pullsWhileNotReading).toBeLessThan(64);
  expect(out.leave).toEqual({ reason: "client disconnected", signalAborted: true, signalNow: true });
}, 40_000);
