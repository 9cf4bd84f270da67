/**
 * Shared parts of the hostile-client suites: simulated pods that record what reached
 * them, a gateway whose log lines are kept, all on real loopback ports, and a raw
 * socket client for requests no well-behaved HTTP client would send.
 */
import { connect } from "node:net";
import { seededRandom } from "../../src/clock.ts";
import { parseConfig } from "../../src/config/load.ts";
import { createGateway, type Gateway } from "../../src/gateway.ts";
import { createLogger } from "../../src/log.ts";
import { serveBun } from "../../src/runtime/serve-bun.ts";
import type { RunningServer } from "../../src/runtime/server.ts";
import { createSimulator } from "../../src/simulator/index.ts";
import { testUpstreamFetch } from "../helpers/upstream-client.ts";

export const MODEL = "facebook/opt-125m";
export const OTHER = "other-model";

/** What one pod received on its inference routes. */
export interface PodTap {
  port: number;
  address: string;
  requests: { path: string; headers: Headers; body: Record<string, unknown> }[];
}

export interface HostileStack {
  gateway: Gateway;
  url: string;
  port: number;
  pods: PodTap[];
  /** Every log line the gateway wrote, parsed. */
  logs: Record<string, unknown>[];
  /** Raw length of every log line, to check no line carries a megabyte. */
  logSizes: number[];
  close(): Promise<void>;
}

/** Two pods (MODEL on the first, MODEL and OTHER on the second) and a gateway in front. */
export async function startHostile(opts: { settings?: Record<string, unknown>; yaml?: string[] } = {}) {
  const servers: RunningServer[] = [];
  const pods: PodTap[] = [];
  const podModels = [[MODEL], [MODEL, OTHER]];
  for (const [i, models] of podModels.entries()) {
    const simulator = createSimulator({
      model: models[0]!,
      loras: models.slice(1),
      jitter: 0,
      prefillOverheadMs: 1,
      interTokenMs: 1,
      random: seededRandom(10 + i),
    });
    const tap: PodTap = { port: 0, address: "", requests: [] };
    const server = await serveBun({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (request) => {
        const path = new URL(request.url).pathname;
        if (request.method === "POST") {
          const body = (await request.clone().json()) as Record<string, unknown>;
          tap.requests.push({ path, headers: new Headers(request.headers), body });
        }
        return simulator.fetch(request);
      },
    });
    tap.port = server.port;
    tap.address = `127.0.0.1:${server.port}`;
    servers.push({
      ...server,
      close: async () => {
        simulator.close();
        await server.close();
      },
    });
    pods.push(tap);
  }
  const settings = {
    apiVersion: "gateway.inference.dev/v1alpha1",
    kind: "GatewayConfig",
    logLevel: "info",
    dataLayer: { scrapeIntervalMs: 50 },
    endpoints: pods.map((p, i) => ({ name: `pod-${i}`, address: p.address, models: podModels[i] })),
    ...opts.settings,
  };
  const config = parseConfig(
    [JSON.stringify(settings), ...(opts.yaml ?? [])].join("\n---\n"),
    "hostile.yaml",
  );
  const logs: Record<string, unknown>[] = [];
  const logSizes: number[] = [];
  const logger = createLogger("info", (line) => {
    logSizes.push(line.length);
    logs.push(JSON.parse(line) as Record<string, unknown>);
  });
  const gateway = createGateway({ config, logger, random: seededRandom(1), ...testUpstreamFetch() });
  gateway.start();
  const server = await serveBun({ fetch: gateway.fetch, port: 0, hostname: "127.0.0.1" });
  return {
    gateway,
    url: `http://127.0.0.1:${server.port}`,
    port: server.port,
    pods,
    logs,
    logSizes,
    async close() {
      await gateway.stop();
      await server.close();
      await Promise.all(servers.map((s) => s.close()));
    },
  } satisfies HostileStack;
}

export const chatBody = (model = MODEL, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model, messages: [{ role: "user", content: "hi" }], max_tokens: 2, ...extra });

/** The fields of an answer or an OpenAI error body the suites look at. */
export interface OpenAIish {
  model?: string;
  error?: { code: string | null; message: string; type: string };
}

/** POSTs a chat completion with extra headers; returns status and parsed body. */
export async function chat(url: string, opts: { model?: string; headers?: Record<string, string> } = {}) {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...opts.headers },
    body: chatBody(opts.model),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as OpenAIish };
}

export interface RawResponse {
  status: number;
  head: string;
  body: string;
}

/**
 * Writes `parts` to a fresh connection (each part after the previous one was written),
 * then reads one HTTP response. With `hangUp`, closes the socket after writing instead
 * and resolves with status 0. Resolves with status 0 if the server closes first.
 */
export function raw(port: number, parts: (string | Uint8Array)[], opts: { hangUp?: boolean } = {}) {
  return new Promise<RawResponse>((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let data = Buffer.alloc(0);
    let done = false;
    const finish = (r: RawResponse) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve(r);
    };
    socket.on("error", () => finish({ status: 0, head: "", body: "" }));
    socket.on("close", () => finish(parse(data) ?? { status: 0, head: "", body: data.toString() }));
    socket.on("data", (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const r = parse(data);
      if (r) finish(r);
    });
    socket.on("connect", async () => {
      for (const part of parts) await new Promise((r) => socket.write(part, r));
      if (opts.hangUp) finish({ status: 0, head: "", body: "" });
    });
  });
}

/** One complete response with a content-length body, or undefined while incomplete. */
function parse(data: Buffer): RawResponse | undefined {
  const end = data.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  const head = data.subarray(0, end).toString("latin1");
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  const body = data.subarray(end + 4);
  if (!length || body.length < Number(length[1])) return undefined;
  return { status: Number(head.split(" ")[1]), head, body: body.subarray(0, Number(length[1])).toString() };
}
