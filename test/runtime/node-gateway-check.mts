/**
 * Run under Node by node-gateway.test.ts: the real gateway on the Node entry's pieces
 * (serveNode, undiciFetch) in front of two simulated pods, also served by serveNode, and
 * clients that misbehave: the hostile-body rules (tests/e2e/hostile-bodies.test.ts, on Bun)
 * checked on Node's own request path. Prints what it saw as one JSON line.
 */
import { request as httpRequest } from "node:http";
import { seededRandom } from "../../src/clock.ts";
import { parseConfig } from "../../src/config/load.ts";
import { createGateway } from "../../src/gateway.ts";
import { createLogger } from "../../src/log.ts";
import { NodeRequest } from "../../src/runtime/node-request.ts";
import { nodeDirectStreams } from "../../src/runtime/node-relay.ts";
import { serveNode } from "../../src/runtime/serve-node.ts";
import { undiciFetch } from "../../src/runtime/undici-fetch.ts";
import { createSimulator } from "../../src/simulator/index.ts";
import { chatBody, MODEL, raw } from "../e2e/hostile-kit.ts";

const out: Record<string, unknown> = {};
/** Inference requests the pods saw close before their answer was complete. */
let podAborts = 0;
/** Called when a pod gets a POST (the check waits on the event, not on the clock). */
let onPodPost: (() => void) | undefined;
const pods = await Promise.all(
  [0, 1].map(async (i) => {
    const simulator = createSimulator({
      model: MODEL,
      jitter: 0,
      prefillOverheadMs: 1,
      interTokenMs: 2,
      random: seededRandom(10 + i),
    });
    const server = await serveNode({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (request) => {
        if (request.method === "POST") {
          request.signal.addEventListener("abort", () => {
            podAborts++;
          });
          onPodPost?.();
        }
        return simulator.fetch(request);
      },
    });
    return { simulator, server };
  }),
);
const config = parseConfig(
  JSON.stringify({
    apiVersion: "gateway.inference.dev/v1alpha1",
    kind: "GatewayConfig",
    logLevel: "info",
    maxBodyBytes: 4096,
    bodyReadTimeoutMs: 200,
    endpoints: pods.map((p, i) => ({ name: `pod-${i}`, address: `127.0.0.1:${p.server.port}`, models: [MODEL] })),
  }),
  "node-gateway.yaml",
);
const logs: Record<string, unknown>[] = [];
const fetchFn = undiciFetch();
const gateway = createGateway({
  config,
  logger: createLogger("info", (line) => logs.push(JSON.parse(line) as Record<string, unknown>)),
  random: seededRandom(1),
  fetch: fetchFn,
  // As the Node entry (node.ts): streamed answers relayed straight into the ServerResponse.
  directStreams: nodeDirectStreams,
});
gateway.start();
const server = await serveNode({ fetch: gateway.fetch, port: 0, hostname: "127.0.0.1" });
const port = server.port;
const url = `http://127.0.0.1:${port}/v1/chat/completions`;
const head = (length: number) =>
  `POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;
const requestLines = () => logs.filter((l) => l["msg"] === "request");
const until = async (what: () => boolean) => {
  for (let i = 0; i < 1000 && !what(); i++) await new Promise((r) => setTimeout(r, 5));
};

// Clients that stay build no platform AbortSignal: the gateway's requests' `signal` is never
// read (the pods' own requests, on other ports, are not counted).
const signalGetter = Object.getOwnPropertyDescriptor(NodeRequest.prototype, "signal")!.get!;
let gatewaySignalReads = 0;
Object.defineProperty(NodeRequest.prototype, "signal", {
  get(this: NodeRequest) {
    if (new URL(this.url).port === String(port)) gatewaySignalReads++;
    return signalGetter.call(this);
  },
});
const stays: number[] = [];
for (const extra of [{}, { stream: true }]) {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: chatBody(MODEL, extra) });
  await res.arrayBuffer();
  stays.push(res.status);
}
out["clientStays"] = { statuses: stays, signalReads: gatewaySignalReads };

// A chunked body (no content-length) is read through the platform's stream.
const chunked = await fetch(url, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: new ReadableStream({
    start(c) {
      c.enqueue(new TextEncoder().encode(chatBody()));
      c.close();
    },
  }),
  duplex: "half",
} as RequestInit);
out["chunkedBody"] = { status: chunked.status, object: ((await chunked.json()) as { object?: string }).object };

// Over maxBodyBytes: declared (not read; the connection still carries the next request) and chunked.
const big = chatBody(MODEL, { pad: "x".repeat(10_000) });
const declared = await raw(port, [head(big.length), big]);
const tooBig = await fetch(url, {
  method: "POST",
  body: new ReadableStream({
    pull(c) {
      c.enqueue(new TextEncoder().encode("x".repeat(1024)));
    },
  }),
  duplex: "half",
} as RequestInit);
out["tooLarge"] = [declared.status, tooBig.status, ((await tooBig.json()) as { error: { code: string } }).error.code];

// Half-sent bodies: 408 with the gateway's error, declared or chunked.
const body = chatBody();
const half = await raw(port, [head(body.length), body.slice(0, 10)]);
const dribble = await raw(port, [
  "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
  "1\r\n{\r\n",
]);
out["halfSent"] = [half.status, JSON.parse(half.body).error.code, dribble.status];

// Clients that hang up mid-body: ordinary 499s, no error line, nothing held.
const before = requestLines().length;
await Promise.all(Array.from({ length: 50 }, () => raw(port, [head(body.length), body.slice(0, 20)], { hangUp: true })));
await until(() => requestLines().length === before + 50);
out["hungUp"] = {
  lines: requestLines().length - before,
  all499: requestLines()
    .slice(before)
    .every((l) => l["status"] === 499 && l["level"] === "info"),
};

// A client that leaves while its (non-streamed) answer is being generated: the pod's request is aborted.
const abortsBefore = podAborts;
await new Promise<void>((resolve) => {
  const req = httpRequest(url, { method: "POST", headers: { "content-type": "application/json" } });
  req.on("error", () => {});
  // Leaves once a pod has the request (while it generates), not after a guessed delay.
  onPodPost = () => {
    onPodPost = undefined;
    req.destroy();
    resolve();
  };
  req.end(chatBody(MODEL, { max_tokens: 2000 }));
});
await until(() => podAborts > abortsBefore && gateway.deps.inflight.total() === 0);
out["leftWhileWaiting"] = { podAborted: podAborts > abortsBefore, lastStatus: requestLines().at(-1)?.["status"] };
// Streams under the Node entry: one the pod sent whole goes out as bytes (Content-Length, one
// write, no relay); one still arriving (the simulated pods pace their tokens) stays chunked.
const WHOLE = [
  `data: ${JSON.stringify({ id: "w", object: "chat.completion.chunk", model: MODEL, choices: [{ index: 0, delta: { content: "hi" } }] })}\n\n`,
  "data: [DONE]\n\n",
].join("");
const wholePod = await serveNode({
  hostname: "127.0.0.1",
  port: 0,
  fetch: () => new Response(WHOLE, { headers: { "content-type": "text/event-stream" } }),
});
const wholeFetch = undiciFetch();
const wholeGateway = createGateway({
  config: parseConfig(
    JSON.stringify({
      apiVersion: "gateway.inference.dev/v1alpha1",
      kind: "GatewayConfig",
      logLevel: "silent",
      endpoints: [{ name: "whole", address: `127.0.0.1:${wholePod.port}`, models: [MODEL] }],
    }),
    "node-gateway-whole.yaml",
  ),
  logger: createLogger("silent", () => {}),
  random: seededRandom(2),
  fetch: wholeFetch,
  directStreams: nodeDirectStreams,
});
wholeGateway.start();
const wholeServer = await serveNode({ fetch: wholeGateway.fetch, port: 0, hostname: "127.0.0.1" });
const streamBody = chatBody(MODEL, { stream: true });
const whole = await raw(wholeServer.port, [
  `POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: ${streamBody.length}\r\n\r\n`,
  streamBody,
]);
const paced = await new Promise<{ status: number; te: string | undefined; length: string | undefined }>((resolve, reject) => {
  const req = httpRequest(url, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
    res.resume();
    res.on("end", () =>
      resolve({ status: res.statusCode ?? 0, te: res.headers["transfer-encoding"], length: res.headers["content-length"] }),
    );
  });
  req.on("error", reject);
  req.end(chatBody(MODEL, { stream: true, max_tokens: 8 }));
});
out["streams"] = {
  whole: {
    status: whole.status,
    length: /\r\ncontent-length: (\d+)/i.exec(whole.head)?.[1],
    chunked: /\r\ntransfer-encoding: chunked/i.test(whole.head),
    same: whole.body === WHOLE,
  },
  paced,
};
await wholeGateway.stop();
await wholeServer.close();
await wholeFetch.close();
await wholePod.close();
out["errorLines"] = logs.filter((l) => l["level"] === "error").length;
out["inflight"] = gateway.deps.inflight.total();

console.log(JSON.stringify(out));
await gateway.stop();
await server.close();
await fetchFn.close();
for (const p of pods) {
  p.simulator.close();
  await p.server.close();
}
