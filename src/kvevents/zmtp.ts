/**
 * ZMTP 3 framing (ZeroMQ's wire protocol, rfc.zeromq.org 23/ZMTP and 37/ZMTP 3.1), the
 * part a PUB/SUB pair needs: the 64-byte greeting with the NULL mechanism, the READY
 * command, and frames. Pure bytes, no sockets: src/runtime/zmq-socket.ts drives it over TCP.
 *
 * Why hand-written: the `zeromq` npm package (libzmq bindings) aborts the whole Bun
 * process when it loads (Bun lacks libuv's `uv_poll_init_socket`), and no maintained
 * pure-JS ZMTP-over-TCP package exists. The tests check this codec against libzmq itself
 * (the `zeromq` package under Node) in both directions.
 *
 * Greeting: signature `FF 00*8 7F`, version 3.0 (so libzmq peers use 3.0 subscriptions:
 * a message whose first byte is 1 = subscribe, 0 = cancel; 3.1's SUBSCRIBE/CANCEL
 * commands are understood too), mechanism "NULL" padded to 20 bytes, as-server 0, 31
 * bytes of filler. Frame: flags (bit 0 MORE, bit 1 LONG, bit 2 COMMAND), size in 1 byte
 * (or 8 bytes big-endian when LONG), body.
 */

export const GREETING_SIZE = 64;
/** A frame larger than this closes the connection (a peer cannot make us buffer more). */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

const FLAG_MORE = 1;
const FLAG_LONG = 2;
const FLAG_COMMAND = 4;

/** Our greeting: ZMTP 3.0, NULL mechanism, not as-server. */
export function greeting(): Uint8Array {
  const g = new Uint8Array(GREETING_SIZE);
  g[0] = 0xff;
  g[9] = 0x7f;
  g[10] = 3;
  g[11] = 0;
  g.set(new TextEncoder().encode("NULL"), 12);
  return g;
}

/** Checks a peer's greeting; returns what is wrong, or undefined when it is usable. */
export function checkGreeting(g: Uint8Array): string | undefined {
  if (g.length < GREETING_SIZE || g[0] !== 0xff || g[9] !== 0x7f) return "not a ZMTP greeting";
  if ((g[10] ?? 0) < 3) return `ZMTP version ${g[10]} (3 or later needed)`;
  const mech = new TextDecoder().decode(g.subarray(12, 32)).replace(/\0+$/, "");
  if (mech !== "NULL") return `security mechanism ${mech} (only NULL is supported)`;
  return undefined;
}

export interface Frame {
  readonly more: boolean;
  readonly command: boolean;
  readonly body: Uint8Array;
}

/** One frame's bytes. */
export function encodeFrame(body: Uint8Array, opts: { more?: boolean; command?: boolean } = {}): Uint8Array {
  const long = body.length > 255;
  const head = long ? 9 : 2;
  const out = new Uint8Array(head + body.length);
  out[0] = (opts.more ? FLAG_MORE : 0) | (long ? FLAG_LONG : 0) | (opts.command ? FLAG_COMMAND : 0);
  if (long) new DataView(out.buffer).setBigUint64(1, BigInt(body.length));
  else out[1] = body.length;
  out.set(body, head);
  return out;
}

/** A multipart message's bytes: every frame but the last has MORE set. */
export function encodeMessage(frames: readonly Uint8Array[]): Uint8Array {
  const parts = frames.map((f, i) => encodeFrame(f, { more: i < frames.length - 1 }));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A command frame: name length, name, data. */
export function encodeCommand(name: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const n = new TextEncoder().encode(name);
  const body = new Uint8Array(1 + n.length + data.length);
  body[0] = n.length;
  body.set(n, 1);
  body.set(data, 1 + n.length);
  return encodeFrame(body, { command: true });
}

/** READY with the Socket-Type property (NULL mechanism's only handshake step). */
export function readyCommand(socketType: "PUB" | "SUB" | "XSUB" | "XPUB"): Uint8Array {
  const enc = new TextEncoder();
  const name = enc.encode("Socket-Type");
  const value = enc.encode(socketType);
  const props = new Uint8Array(1 + name.length + 4 + value.length);
  props[0] = name.length;
  props.set(name, 1);
  new DataView(props.buffer).setUint32(1 + name.length, value.length);
  props.set(value, 5 + name.length);
  return encodeCommand("READY", props);
}

/** A command frame's name and data. */
export function parseCommand(body: Uint8Array): { name: string; data: Uint8Array } {
  const len = body[0] ?? 0;
  return { name: new TextDecoder().decode(body.subarray(1, 1 + len)), data: body.subarray(1 + len) };
}

/** The READY command's Socket-Type, if any. */
export function readySocketType(data: Uint8Array): string | undefined {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let at = 0;
  while (at < data.length) {
    const nameLen = data[at]!;
    const name = new TextDecoder().decode(data.subarray(at + 1, at + 1 + nameLen));
    if (at + 1 + nameLen + 4 > data.length) return undefined;
    const valueLen = view.getUint32(at + 1 + nameLen);
    const start = at + 5 + nameLen;
    if (name.toLowerCase() === "socket-type")
      return new TextDecoder().decode(data.subarray(start, start + valueLen));
    at = start + valueLen;
  }
  return undefined;
}

/**
 * Incremental reader: push TCP chunks, take greeting then frames. Throws on a frame
 * over MAX_FRAME_BYTES (the connection is then closed by the caller).
 */
export class FrameReader {
  private chunks: Uint8Array[] = [];
  private buffered = 0;

  push(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** The next `n` bytes, when that many are buffered. */
  take(n: number): Uint8Array | undefined {
    if (this.buffered < n) return undefined;
    const out = this.peek(n);
    this.drop(n);
    return out;
  }

  /** The next complete frame, if buffered. */
  frame(): Frame | undefined {
    if (this.buffered < 2) return undefined;
    const head = this.peek(Math.min(9, this.buffered));
    const flags = head[0]!;
    const long = (flags & FLAG_LONG) !== 0;
    if (long && this.buffered < 9) return undefined;
    const size = long ? Number(new DataView(head.buffer, head.byteOffset, 9).getBigUint64(1)) : head[1]!;
    if (size > MAX_FRAME_BYTES) throw new Error(`ZMTP frame of ${size} bytes exceeds ${MAX_FRAME_BYTES}`);
    const headLen = long ? 9 : 2;
    if (this.buffered < headLen + size) return undefined;
    this.drop(headLen);
    const body = this.take(size)!;
    return { more: (flags & FLAG_MORE) !== 0, command: (flags & FLAG_COMMAND) !== 0, body };
  }

  private peek(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    const out = new Uint8Array(n);
    let at = 0;
    for (const c of this.chunks) {
      const part = c.subarray(0, Math.min(c.length, n - at));
      out.set(part, at);
      at += part.length;
      if (at === n) break;
    }
    return out;
  }

  private drop(n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const first = this.chunks[0]!;
      if (first.length <= n) {
        this.chunks.shift();
        n -= first.length;
      } else {
        this.chunks[0] = first.subarray(n);
        n = 0;
      }
    }
  }
}
