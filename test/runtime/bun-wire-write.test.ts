import { describe, expect, test } from "bun:test";
import { WireCall } from "../../src/runtime/bun-wire-call.ts";
import { Conn, handlers } from "../../src/runtime/bun-wire-conn.ts";
import type { Pool } from "../../src/runtime/bun-wire-pool.ts";

/**
 * How a call's request reaches the socket (bun-wire-conn.ts): a head and a large body go out
 * in one write through a shared scratch buffer, and what the kernel did not take survives the
 * next call's use of that buffer. A fake socket records each write's bytes (copied at once, as
 * the kernel does) and takes at most `accept` bytes of each.
 */
/** A copy (Buffer's own `slice` is a view). */
const copyOf = (data: Uint8Array, offset: number, n: number) =>
  Uint8Array.prototype.slice.call(data, offset, offset + n);

function fakeSocket(accept = Number.POSITIVE_INFINITY) {
  const writes: Uint8Array[] = [];
  const socket = {
    readyState: 1,
    write(data: Uint8Array, offset = 0, length = data.byteLength - offset) {
      const n = Math.min(length, accept);
      writes.push(copyOf(data, offset, n));
      return n;
    },
    ref() {},
  };
  return { socket, writes };
}

const pool = { origin: "127.0.0.1:1", paused: 0, release() {}, gone() {} } as unknown as Pool;

function connOn(socket: object): Conn {
  const conn = new Conn(pool);
  conn.socket = socket as never;
  return conn;
}

function call(head: string, body?: Uint8Array): WireCall {
  const c = new WireCall(
    new TextEncoder().encode(head),
    false,
    undefined,
    () => {},
    () => {},
  );
  if (body) c.largeBody = body;
  return c;
}

const HEAD = "POST /v1/chat/completions HTTP/1.1\r\nhost: p\r\ncontent-length: 30720\r\n\r\n";
const join = (parts: Uint8Array[]) => Buffer.concat(parts);

describe("the wire client's request write", () => {
  test("head and a 30 KiB body are one write, byte for byte", () => {
    const { socket, writes } = fakeSocket();
    const body = new Uint8Array(30 * 1024).map((_, i) => 32 + (i % 90));
    connOn(socket).start(call(HEAD, body));
    expect(writes.length).toBe(1);
    expect(join(writes).equals(join([new TextEncoder().encode(HEAD), body]))).toBe(true);
  });

  test("what the kernel did not take is kept apart from the scratch the next call reuses", () => {
    const first = fakeSocket(1000);
    const a = connOn(first.socket);
    const bodyA = new Uint8Array(30 * 1024).fill(65);
    a.start(call(HEAD, bodyA));
    // Another connection writes through the same scratch before `a` drains.
    const second = fakeSocket();
    connOn(second.socket).start(call(HEAD, new Uint8Array(30 * 1024).fill(66)));
    first.socket.write = (data: Uint8Array, offset = 0, length = data.byteLength - offset) => {
      first.writes.push(copyOf(data, offset, length));
      return length;
    };
    handlers.drain!(Object.assign(first.socket, { data: a }) as never);
    expect(a.unsent).toBeUndefined();
    expect(join(first.writes).equals(join([new TextEncoder().encode(HEAD), bodyA]))).toBe(true);
  });

  test("a body past the joined limit goes after its head as it is", () => {
    const { socket, writes } = fakeSocket();
    const body = new Uint8Array(300 * 1024).fill(67);
    connOn(socket).start(call(HEAD, body));
    expect(writes.length).toBe(2);
    expect(writes[1]!.byteLength).toBe(body.byteLength);
  });

  test("a call without a separate body is written as given", () => {
    const { socket, writes } = fakeSocket();
    connOn(socket).start(call("GET / HTTP/1.1\r\nhost: p\r\n\r\n"));
    expect(writes.length).toBe(1);
    expect(new TextDecoder().decode(writes[0])).toBe("GET / HTTP/1.1\r\nhost: p\r\n\r\n");
  });
});
