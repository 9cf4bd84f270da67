/**
 * ZeroMQ PUB and SUB sockets over TCP (`node:net`, so Bun and Node), speaking ZMTP 3
 * (zmtp.ts). Either side may bind or connect, as with libzmq: vLLM's publisher binds
 * `tcp://*:5557` (a subscriber per pod connects to it) or connects to a central
 * subscriber that binds.
 *
 * - A connecting socket reconnects after a drop or a refusal, waiting `reconnectMs`
 *   doubled per failure up to `maxReconnectMs` (libzmq's ZMQ_RECONNECT_IVL(_MAX)).
 * - Bounded: a frame over 16 MiB, a message over `maxMessageFrames` frames or a peer
 *   that breaks the protocol closes that connection (counted in `errors`); a publisher
 *   drops messages for a peer whose unsent bytes exceed `hwmBytes` (PUB's high-water
 *   mark: slow subscribers lose messages, the publisher never blocks or grows).
 * - Sockets are unref'ed: an open subscription never keeps the process alive.
 */
import * as net from "node:net";
import type { SetTimer } from "../clock.ts";
import { encodeMessage } from "../kvevents/zmtp.ts";
import { Peer } from "./zmq-peer.ts";

export interface ZmqAddress {
  readonly host: string;
  readonly port: number;
}

/** `tcp://host:port` (host `*` = every interface; port 0 binds a free one) → address; throws with what to write otherwise. */
export function parseZmqEndpoint(endpoint: string): ZmqAddress {
  const m = /^tcp:\/\/(\*|\[[^\]]+\]|[^:/]+):(\d{1,5})$/.exec(endpoint);
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || !(port >= 0 && port < 65536))
    throw new Error(
      `ZMQ endpoint ${JSON.stringify(endpoint)}: write tcp://HOST:PORT (or tcp://*:PORT to bind)`,
    );
  const host = m[1] === "*" ? "0.0.0.0" : m[1]!.replace(/^\[|\]$/g, "");
  return { host, port };
}

export interface SocketOptions {
  readonly setTimer?: SetTimer;
  readonly reconnectMs?: number;
  readonly maxReconnectMs?: number;
  readonly maxMessageFrames?: number;
  readonly hwmBytes?: number;
  /** A connection failed or broke the protocol (for a log line or a counter). */
  readonly onError?: (err: Error) => void;
}

/** Real timers that never keep the process alive (a reconnect loop is background work). */
const unrefTimer: SetTimer = (fn, ms) => {
  const id = setTimeout(fn, ms) as unknown as { unref?: () => void };
  id.unref?.();
  return () => clearTimeout(id as unknown as number);
};

/** What bind/connect share: peers, the listener or the reconnect loop, close. */
abstract class ZmqSocket {
  protected readonly peers = new Set<Peer>();
  private server: net.Server | undefined;
  private readonly dialers = new Set<() => void>();
  protected closed = false;
  protected readonly setTimer: SetTimer;

  constructor(
    private readonly role: "PUB" | "SUB",
    protected readonly opts: SocketOptions,
  ) {
    this.setTimer = opts.setTimer ?? unrefTimer;
  }

  protected abstract onReady(peer: Peer): void;
  protected abstract onMessage(peer: Peer, frames: Uint8Array[]): void;

  private adopt(socket: net.Socket, onGone: () => void): void {
    socket.unref();
    const peer = new Peer(socket, this.role, {
      onReady: (p) => this.onReady(p),
      onMessage: (p, frames) => this.onMessage(p, frames),
      onError: (err) => this.opts.onError?.(err),
      maxFrames: this.opts.maxMessageFrames ?? 16,
    });
    this.peers.add(peer);
    socket.on("error", (err) => this.opts.onError?.(err));
    socket.on("close", () => {
      this.peers.delete(peer);
      onGone();
    });
  }

  /** Listens on `endpoint`; resolves once bound (rejects when the port cannot be bound). */
  bind(endpoint: string): Promise<ZmqAddress> {
    const { host, port } = parseZmqEndpoint(endpoint);
    return new Promise((resolve, reject) => {
      const server = net.createServer((socket) => {
        if (this.closed) socket.destroy();
        else this.adopt(socket, () => {});
      });
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        server.on("error", (err) => this.opts.onError?.(err));
        server.unref();
        this.server = server;
        const a = server.address() as net.AddressInfo;
        resolve({ host: a.address, port: a.port });
      });
    });
  }

  /** Connects to `endpoint` and keeps reconnecting (with back-off) until close(). */
  connect(endpoint: string): void {
    const { host, port } = parseZmqEndpoint(endpoint);
    const base = this.opts.reconnectMs ?? 100;
    const max = this.opts.maxReconnectMs ?? 5000;
    let wait = base;
    let cancelTimer: (() => void) | undefined;
    let socket: net.Socket | undefined;
    const dial = () => {
      cancelTimer = undefined;
      if (this.closed) return;
      const s = net.connect({ host, port });
      socket = s;
      s.once("connect", () => {
        wait = base;
      });
      this.adopt(s, () => {
        if (this.closed) return;
        cancelTimer = this.setTimer(dial, wait);
        wait = Math.min(max, wait * 2);
      });
    };
    this.dialers.add(() => {
      cancelTimer?.();
      socket?.destroy();
    });
    dial();
  }

  /** Closes the listener, every connection and every reconnect loop. */
  close(): void {
    this.closed = true;
    for (const stop of this.dialers) stop();
    this.dialers.clear();
    this.server?.close();
    for (const p of this.peers) p.socket.destroy();
    this.peers.clear();
  }
}

/** SUB: subscribes every peer to `topics` (prefixes; "" = everything) and hands over each message. */
export class ZmqSubscriber extends ZmqSocket {
  constructor(
    private readonly topics: readonly string[],
    private readonly onMessageFrames: (frames: Uint8Array[], peerId: string) => void,
    opts: SocketOptions = {},
  ) {
    super("SUB", opts);
  }

  protected onReady(peer: Peer): void {
    const enc = new TextEncoder();
    for (const t of this.topics) {
      const topic = enc.encode(t);
      const body = new Uint8Array(1 + topic.length);
      body[0] = 1;
      body.set(topic, 1);
      peer.socket.write(encodeMessage([body]));
    }
  }

  protected onMessage(peer: Peer, frames: Uint8Array[]): void {
    this.onMessageFrames(frames, `${peer.socket.remoteAddress}:${peer.socket.remotePort}`);
  }

  /** Ready publisher connections right now. */
  get connections(): number {
    let n = 0;
    for (const p of this.peers) if (p.isReady) n++;
    return n;
  }
}

/** PUB: sends each message to every ready peer subscribed to a prefix of its first frame. */
export class ZmqPublisher extends ZmqSocket {
  constructor(opts: SocketOptions = {}) {
    super("PUB", opts);
  }

  protected onReady(): void {}
  protected onMessage(): void {}

  /** Sends one multipart message; returns how many peers it was written to. */
  send(frames: readonly Uint8Array[]): number {
    if (this.closed || frames.length === 0) return 0;
    const topic = frames[0]!;
    const hwm = this.opts.hwmBytes ?? 8 * 1024 * 1024;
    let bytes: Uint8Array | undefined;
    let sent = 0;
    for (const p of this.peers) {
      if (!p.isReady || !p.matches(topic) || p.socket.writableLength > hwm) continue;
      bytes ??= encodeMessage(frames);
      p.socket.write(bytes);
      sent++;
    }
    return sent;
  }

  /** Peers subscribed to at least one topic (a subscriber's subscription has arrived). */
  get subscribers(): number {
    let n = 0;
    for (const p of this.peers) if (p.isReady && p.subscriptions.length > 0) n++;
    return n;
  }
}

/** The pool's subscriber factory over these sockets (Bun and Node). */
export function tcpSubscriber(
  topics: readonly string[],
  onMessage: (frames: Uint8Array[]) => void,
  onError: (err: Error) => void,
): ZmqSubscriber {
  return new ZmqSubscriber(topics, (frames) => onMessage(frames), { onError });
}
