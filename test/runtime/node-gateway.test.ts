import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

// Under Node (Bun's node:http is its own): the gateway's POSTs take the Node entry's own path
// (serve-node.ts), so the hostile-client rules are checked there too.
test("the gateway on Node's own request path: chunked and oversized bodies, half-sent bodies, clients that leave, whole and paced streams", () => {
  const script = fileURLToPath(new URL("./node-gateway-check.mts", import.meta.url));
  const run = spawnSync("node", ["--import", "tsx", script], { encoding: "utf8", timeout: 30_000 });
  expect(run.stderr).toBe("");
  const out = JSON.parse(run.stdout.trim().split("\n").at(-1)!);
  // Clients that stay (JSON and a stream) cost no platform AbortSignal on this path.
  expect(out.clientStays).toEqual({ statuses: [200, 200], signalReads: 0 });
  expect(out.chunkedBody).toEqual({ status: 200, object: "chat.completion" });
  // maxBodyBytes: declared (never read) and chunked (cut as it passes the limit).
  expect(out.tooLarge).toEqual([413, 413, "request_too_large"]);
  // bodyReadTimeoutMs: declared and chunked bodies that stop arriving.
  expect(out.halfSent).toEqual([408, "request_body_timeout", 408]);
  // 50 clients hanging up mid-body: 50 ordinary 499 lines.
  expect(out.hungUp).toEqual({ lines: 50, all499: true });
  // A client leaving while its answer is generated aborts the pod's request: a 499.
  // (attempt learns it from the request's light signal under Node).
  expect(out.leftWhileWaiting).toEqual({ podAborted: true, lastStatus: 499 });
  // A stream the pod sent whole goes out as bytes on Node too; one still arriving stays chunked.
  expect(out.streams).toEqual({
    whole: { status: 200, length: String(out.streams.whole.length), chunked: false, same: true },
    paced: { status: 200, te: "chunked" },
  });
  expect(Number(out.streams.whole.length)).toBeGreaterThan(0);
  expect(out.errorLines).toBe(0);
  expect(out.inflight).toBe(0);
}, 40_000);
