import { describe, expect, test } from "bun:test";
import { createServer as httpServer } from "node:http";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { wireFetch } from "../../src/runtime/bun-wire.ts";

const OK = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

/**
 * A raw pod: `answer(n, socket)` decides what the n-th request on a connection gets (the
 * bytes to write, or undefined to close the socket without a byte). Counts connections.
 */
async function rawPod(answer: (n: number, socket: Socket) => string | undefined) {
  const stats = { connections: 0, closed: 0 };
  const server: Server = createServer((socket) => {
    stats.connections++;
    let n = 0;
    socket.on("close", () => stats.closed++);
    socket.on("error", () => {});
    socket.on("data", (d) => {
      // one request per data event (small requests, one at a time)
      if (!d.includes("\r\n\r\n")) return;
      const out = answer(++n, socket);
      if (out === undefined) socket.destroy();
      else socket.write(out);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`,
    stats,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Event-loop turns until `ok()` (bounded: no wall-clock wait). */
async function turnsUntil(ok: () => boolean, max = 20_000): Promise<boolean> {
  for (let i = 0; i < max && !ok(); i++) await new Promise((r) => setImmediate(r));
  return ok();
}

describe("the wire client's keep-alive pool", () => {
  test("a reused socket the pod closes before answering: the call is sent once more on a new one", async () => {
    // The second request on any connection is dropped, as by a pod that closed it idle.
    const pod = await rawPod((n) => (n === 1 ? OK : undefined));
    const wire = wireFetch();
    try {
      expect(await (await wire(pod.url, {})).text()).toBe("ok");
      expect(await (await wire(pod.url, {})).text()).toBe("ok");
      expect(pod.stats.connections).toBe(2);
    } finally {
      wire.close();
      await pod.close();
    }
  });

  test("a new socket closed before any answer is not retried: the call rejects", async () => {
    const pod = await rawPod(() => undefined);
    const wire = wireFetch();
    try {
      const err = await wire(pod.url, {}).catch((e: Error) => e.message);
      expect(err).toContain("closed the connection before answering");
      expect(pod.stats.connections).toBe(1);
    } finally {
      await pod.close();
    }
  });

  test("a reused socket is retried once only", async () => {
    // First request answered; every later one on any connection... and first ones on new connections dropped.
    let first = true;
    const pod = await rawPod(() => {
      const out = first ? OK : undefined;
      first = false;
      return out;
    });
    const wire = wireFetch();
    try {
      await (await wire(pod.url, {})).text();
      const err = await wire(pod.url, {}).catch((e: Error) => e.message);
      expect(err).toContain("closed the connection before answering");
      expect(pod.stats.connections).toBe(2); // the reused one, then one retry
    } finally {
      await pod.close();
    }
  });

  test("sockets idle past idleMs are closed, not reused", async () => {
    const pod = await rawPod(() => OK);
    const wire = wireFetch({ idleMs: 0 });
    try {
      for (let i = 0; i < 3; i++) await (await wire(pod.url, {})).text();
      expect(pod.stats.connections).toBe(3);
      expect(await turnsUntil(() => pod.stats.closed >= 2)).toBe(true);
    } finally {
      wire.close();
      await pod.close();
    }
  });

  test("a pod's pool is forgotten once its last socket closes (pods come and go)", async () => {
    const pod = await rawPod(() => "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok");
    const wire = wireFetch();
    try {
      expect(await (await wire(pod.url, {})).text()).toBe("ok");
      expect(wire.pools.size).toBe(0);
    } finally {
      await pod.close();
    }
  });

  test("at most maxSockets at once; the calls past it wait and then run", async () => {
    const held: Socket[] = [];
    const pod = await rawPod((_, socket) => {
      held.push(socket);
      return "";
    });
    const wire = wireFetch({ maxSockets: 2 });
    try {
      const calls = Array.from({ length: 5 }, () => wire(pod.url, {}).then((r) => r.text()));
      expect(await turnsUntil(() => held.length === 2)).toBe(true);
      expect(pod.stats.connections).toBe(2);
      // Answer one at a time: each answer frees a socket for a waiting call.
      for (let answered = 0; answered < 5; answered++) {
        expect(await turnsUntil(() => held.length > answered)).toBe(true);
        held[answered]!.write(OK);
      }
      expect(await Promise.all(calls)).toEqual(["ok", "ok", "ok", "ok", "ok"]);
      expect(pod.stats.connections).toBe(2);
    } finally {
      wire.close();
      await pod.close();
    }
  });

  test("a call aborted while it waits for a socket is dropped: its request is never sent", async () => {
    const held: Socket[] = [];
    const pod = await rawPod((_, socket) => {
      held.push(socket);
      return "";
    });
    const wire = wireFetch({ maxSockets: 1 });
    try {
      const first = wire(pod.url, {}).then((r) => r.text());
      const c = new AbortController();
      const waiting = wire(pod.url, { signal: c.signal }).catch((e: Error) => e.message);
      const third = wire(pod.url, {}).then((r) => r.text());
      expect(await turnsUntil(() => held.length === 1)).toBe(true);
      c.abort(new Error("gave up"));
      expect(await waiting).toBe("gave up");
      held[0]!.write(OK);
      expect(await first).toBe("ok");
      expect(await turnsUntil(() => held.length === 2)).toBe(true);
      held[1]!.write(OK);
      expect(await third).toBe("ok");
      expect(held).toHaveLength(2);
    } finally {
      wire.close();
      await pod.close();
    }
  });

  test("a chunked stream that arrives at once is one chunk (so the relay can see it ended), then done", async () => {
    const events = ["data: 1\n\n", "data: 2\n\n", "data: [DONE]\n\n"];
    const body = events.map((e) => `${e.length.toString(16)}\r\n${e}\r\n`).join("");
    const pod = await rawPod(
      () =>
        `HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n${body}0\r\n\r\n`,
    );
    const wire = wireFetch();
    try {
      const res = await wire(pod.url, {});
      const chunks = (
        res as unknown as Record<symbol, () => { read(): Promise<ReadableStreamReadResult<Uint8Array>> }>
      )[Symbol.for("inference-gateway.chunkSource")]!();
      const first = await chunks.read();
      expect(new TextDecoder().decode(first.value)).toBe(events.join(""));
      expect((await chunks.read()).done).toBe(true);
    } finally {
      wire.close();
      await pod.close();
    }
  });

  test("a slow reader: the socket pauses once the read-ahead is full, and the pod's writes stall", async () => {
    const TOTAL = 64 << 20;
    const PIECE = 64 * 1024;
    /** Piece i is all one letter, so a chunk held across socket reads would show if its bytes changed. */
    const letter = (i: number) => 97 + (i % 26);
    let written = 0;
    let finished = false;
    const server = httpServer((_, res) => {
      res.setHeader("content-type", "text/event-stream");
      const pump = () => {
        while (written < TOTAL) {
          const piece = Buffer.alloc(PIECE, letter(written / PIECE));
          written += PIECE;
          if (!res.write(piece)) return void res.once("drain", pump);
        }
        res.end(() => {
          finished = true;
        });
      };
      pump();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const wire = wireFetch();
    try {
      const res = await wire(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, {});
      const pool = [...wire.pools.values()][0]!;
      // Nobody reads: the client pauses its socket, and the pod stops short of the end.
      expect(await turnsUntil(() => pool.paused === 1)).toBe(true);
      expect(finished).toBe(false);
      expect(written).toBeLessThan(TOTAL);
      // Then everything is read, every byte, unchanged (the chunks held meanwhile included).
      const reader = res.body!.getReader();
      let got = 0;
      let wrong = 0;
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        const v = r.value;
        for (let k = 0; k < v.length; k += 512) if (v[k] !== letter(Math.floor((got + k) / PIECE))) wrong++;
        got += v.byteLength;
      }
      expect(got).toBe(TOTAL);
      expect(wrong).toBe(0);
      expect(pool.paused).toBe(0);
    } finally {
      wire.close();
      server.closeAllConnections();
      server.close();
    }
  });
});
