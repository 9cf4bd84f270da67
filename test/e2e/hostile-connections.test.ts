import { afterEach, describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { waitFor } from "../helpers/stack.ts";
import { chat, chatBody, type HostileStack, MODEL, startHostile } from "./hostile-kit.ts";

/**
 * Slow, abandoned and flooding connections on a real port (bounded in count, loopback
 * only): the gateway keeps serving, and nothing a request took is left behind.
 * Slowloris on headers is the runtime's job: Bun closes a connection whose headers are
 * not complete after about 10 s, even while bytes still trickle in (measured with
 * Bun 1.4); half-sent bodies are the gateway's (bodyReadTimeoutMs, hostile-bodies).
 */
let stack: HostileStack | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await stack?.close();
  stack = undefined;
});

function open(port: number, first: string): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(first);
      resolve(socket);
    });
    socket.on("error", () => {});
    sockets.push(socket);
  });
}

describe("hostile clients: connections", () => {
  test("200 slowloris connections (headers never finished) do not stop others being served", async () => {
    stack = await startHostile();
    const s = stack;
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        open(s.port, `POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nX-Slow-${i}: `),
      ),
    );
    for (let i = 0; i < 5; i++) expect((await chat(s.url)).status).toBe(200);
  });

  test("a flood of 500 connections opened and dropped, some mid-request, leaves nothing held", async () => {
    stack = await startHostile();
    const s = stack;
    const body = chatBody();
    const request = `POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    for (let round = 0; round < 5; round++) {
      const batch = await Promise.all(
        Array.from({ length: 100 }, (_, i) => open(s.port, i % 2 ? request : "GET /healthz HTTP/1.1\r\n")),
      );
      for (const socket of batch) socket.destroy();
    }
    await waitFor(() => s.gateway.deps.inflight.total() === 0);
    expect((await chat(s.url)).status).toBe(200);
    expect(s.logs.filter((l) => l["level"] === "error")).toEqual([]);
  });

  test("streams abandoned mid-way: upstream aborted, in-flight and running gauges back to zero", async () => {
    stack = await startHostile();
    const s = stack;
    const aborts = Array.from({ length: 100 }, async () => {
      const controller = new AbortController();
      const res = await fetch(`${s.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: chatBody(MODEL, { stream: true, max_tokens: 200 }),
        signal: controller.signal,
      });
      const reader = res.body!.getReader();
      await reader.read();
      controller.abort();
    });
    await Promise.all(aborts.map((p) => p.catch(() => {})));
    await waitFor(() => s.gateway.deps.inflight.total() === 0);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    for (const line of metrics
      .split("\n")
      .filter((l) => l.startsWith("inference_objective_running_requests{")))
      expect(line).toEndWith(" 0");
    expect(s.logs.filter((l) => l["level"] === "error")).toEqual([]);
  });
});
