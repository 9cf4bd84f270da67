/**
 * One ZMTP connection of a PUB or SUB socket (zmq-socket.ts): sends our greeting and
 * READY, checks the peer's, then hands over whole messages (SUB side) or keeps the peer's
 * subscriptions (PUB side: 3.0 subscription messages, 3.1 SUBSCRIBE/CANCEL commands);
 * answers PING. Any protocol breach throws inside the data handler, which reports it and
 * destroys the socket.
 */
import type * as net from "node:net";
import {
  checkGreeting,
  FrameReader,
  GREETING_SIZE,
  greeting,
  parseCommand,
  readyCommand,
  readySocketType,
} from "../kvevents/zmtp.ts";

/** One TCP connection after (and during) the ZMTP handshake. */
export class Peer {
  private readonly reader = new FrameReader();
  private greeted = false;
  private ready = false;
  private parts: Uint8Array[] = [];
  readonly subscriptions: Uint8Array[] = [];

  constructor(
    readonly socket: net.Socket,
    private readonly role: "PUB" | "SUB",
    private readonly handlers: {
      onReady(peer: Peer): void;
      onMessage(peer: Peer, frames: Uint8Array[]): void;
      onError(err: Error): void;
      maxFrames: number;
    },
  ) {
    socket.setNoDelay(true);
    socket.write(greeting());
    socket.write(readyCommand(role));
    socket.on("data", (chunk: Uint8Array) => {
      try {
        this.reader.push(chunk);
        this.drain();
      } catch (err) {
        handlers.onError(err instanceof Error ? err : new Error(String(err)));
        socket.destroy();
      }
    });
  }

  get isReady(): boolean {
    return this.ready;
  }

  private drain(): void {
    if (!this.greeted) {
      const g = this.reader.take(GREETING_SIZE);
      if (g === undefined) return;
      const problem = checkGreeting(g);
      if (problem) throw new Error(`ZMQ peer: ${problem}`);
      this.greeted = true;
    }
    for (let f = this.reader.frame(); f !== undefined; f = this.reader.frame()) {
      if (f.command) {
        this.command(f.body);
        continue;
      }
      if (!this.ready) throw new Error("ZMQ peer sent a message before READY");
      this.parts.push(f.body);
      if (this.parts.length > this.handlers.maxFrames)
        throw new Error(`ZMQ message of more than ${this.handlers.maxFrames} frames`);
      if (f.more) continue;
      const frames = this.parts;
      this.parts = [];
      if (this.role === "PUB") this.subscription(frames[0] ?? new Uint8Array(0));
      else this.handlers.onMessage(this, frames);
    }
  }

  private command(body: Uint8Array): void {
    const { name, data } = parseCommand(body);
    if (name === "READY") {
      const type = readySocketType(data);
      const want = this.role === "PUB" ? ["SUB", "XSUB"] : ["PUB", "XPUB"];
      if (type === undefined || !want.includes(type.toUpperCase()))
        throw new Error(`ZMQ peer is a ${type ?? "socket of no type"}, not ${want[0]}`);
      this.ready = true;
      this.handlers.onReady(this);
    } else if (name === "SUBSCRIBE") this.subscribe(data);
    else if (name === "CANCEL") this.cancel(data);
    else if (name === "PING") this.socket.write(pong(data));
    else if (name === "ERROR") throw new Error("ZMQ peer reported an error");
  }

  /** ZMTP 3.0 subscriptions: a message whose first byte is 1 (subscribe) or 0 (cancel). */
  private subscription(body: Uint8Array): void {
    if (body[0] === 1) this.subscribe(body.subarray(1));
    else if (body[0] === 0) this.cancel(body.subarray(1));
  }

  private subscribe(topic: Uint8Array): void {
    if (this.subscriptions.length < 1024) this.subscriptions.push(topic.slice());
  }

  private cancel(topic: Uint8Array): void {
    const i = this.subscriptions.findIndex((t) => equal(t, topic));
    if (i >= 0) this.subscriptions.splice(i, 1);
  }

  matches(topic: Uint8Array): boolean {
    return this.subscriptions.some((s) => s.length <= topic.length && equal(s, topic.subarray(0, s.length)));
  }
}

function pong(ping: Uint8Array): Uint8Array {
  // PING data = TTL (2 bytes) + context; PONG echoes the context.
  const ctx = ping.subarray(2);
  const body = new Uint8Array(5 + ctx.length);
  body[0] = 4;
  body.set(new TextEncoder().encode("PONG"), 1);
  body.set(ctx, 5);
  return Uint8Array.of(4, body.length, ...body);
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
