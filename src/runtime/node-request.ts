/**
 * The client's request under Node as a web `Request` that builds only what is read.
 *
 * The gateway reads an inference POST's method, URL, headers, signal and its bytes
 * (`arrayBuffer()`, once); under Node 20 a full `Request` would cost a web stream (~19-26 µs)
 * and an AbortSignal (~4 µs) up front. This one answers those from the `IncomingMessage`:
 * headers as a `LightHeaders` built once from the raw pairs (node-headers.ts: a Headers
 * without undici's webidl layer, which the proxy copies without building a platform one), the body read straight from the socket, the signal
 * created on first read and aborted when the client goes away before its answer is written
 * (serve-node.ts calls `clientGone`). Anything else (`body`, `formData()`, `clone()`...)
 * builds the platform's Request over the same socket and hands over to it.
 */
import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { LightAbortSignal } from "./node-abort.ts";
import { LightHeaders } from "./node-headers.ts";

/**
 * Where a runtime's client request offers a light "client gone" signal (read by
 * src/stages/exchange.ts for attempt's use): aborted with the same reason as `signal`, but no
 * platform AbortSignal (~4 µs under Node 20, plus attempt's listener on it) for a client that stays.
 */
export const CLIENT_SIGNAL = Symbol.for("inference-gateway.clientSignal");

const unusable = () => new TypeError("Body is unusable: it has already been read.");

export class NodeRequest {
  readonly method: string;
  readonly url: string;
  #incoming: IncomingMessage;
  #headers: Headers | undefined;
  #controller: AbortController | undefined;
  #goneReason: Error | undefined;
  #light: LightAbortSignal | undefined;
  /** The body was read (arrayBuffer and friends), or handed to the platform's Request. */
  #used = false;
  #full: Request | undefined;

  constructor(incoming: IncomingMessage, url: string) {
    this.#incoming = incoming;
    this.method = incoming.method ?? "GET";
    this.url = url;
  }

  get headers(): Headers {
    if (!this.#headers) {
      this.#headers = LightHeaders.fromRaw(this.#incoming.rawHeaders) as unknown as Headers;
    }
    return this.#headers;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#goneReason) this.#controller.abort(this.#goneReason);
    }
    return this.#controller.signal;
  }

  /** The light signal-like the Exchange prefers for attempt's use (CLIENT_SIGNAL), built on first read. */
  [CLIENT_SIGNAL](): LightAbortSignal {
    if (!this.#light) {
      this.#light = new LightAbortSignal();
      if (this.#goneReason) this.#light._abort(this.#goneReason);
    }
    return this.#light;
  }

  /** The client went away before its answer was written: both signals abort (now, or when first read). */
  clientGone(reason: Error): void {
    if (this.#goneReason) return;
    this.#goneReason = reason;
    this.#light?._abort(reason);
    this.#controller?.abort(reason);
  }

  get bodyUsed(): boolean {
    return this.#full ? this.#full.bodyUsed : this.#used;
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    if (this.#full) return this.#full.arrayBuffer();
    if (this.#used) return Promise.reject(unusable());
    this.#used = true;
    return readWhole(this.#incoming);
  }

  bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return this.arrayBuffer().then((b) => new Uint8Array(b));
  }

  text(): Promise<string> {
    return this.arrayBuffer().then((b) => new TextDecoder().decode(b));
  }

  json(): Promise<unknown> {
    return this.text().then(JSON.parse);
  }

  get body(): ReadableStream<Uint8Array> | null {
    return this.#platform().body;
  }

  blob(): Promise<Blob> {
    return this.#platform().blob();
  }

  formData(): Promise<FormData> {
    return this.#platform().formData();
  }

  clone(): Request {
    return this.#platform().clone();
  }

  /** The platform's Request over the same socket, built once; the body then belongs to it. */
  #platform(): Request {
    if (!this.#full) {
      const noBody = this.method === "GET" || this.method === "HEAD";
      this.#full = new Request(this.url, {
        method: this.method,
        headers: this.headers,
        signal: this.signal,
        ...(noBody
          ? {}
          : {
              body: this.#used
                ? new ReadableStream({ start: (c) => c.error(unusable()) })
                : (Readable.toWeb(this.#incoming) as unknown as ReadableStream<Uint8Array>),
              duplex: "half",
            }),
      } as RequestInit);
      if (this.#used) void this.#full.arrayBuffer().catch(() => {});
      this.#used = true;
    }
    return this.#full;
  }
}
Object.setPrototypeOf(NodeRequest.prototype, Request.prototype);

/**
 * The whole body, as an ArrayBuffer of its own (the socket's chunks are views into larger
 * buffers). Rejects when the client goes away or the framing breaks before the end.
 */
function readWhole(incoming: IncomingMessage): Promise<ArrayBuffer> {
  return new Promise((resolve, reject) => {
    if (incoming.readableEnded) {
      resolve(new ArrayBuffer(0));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.byteLength;
    };
    const done = () => {
      incoming.off("data", onData);
      incoming.off("end", onEnd);
      incoming.off("error", onError);
      incoming.off("close", onClose);
    };
    const onEnd = () => {
      done();
      const out = new Uint8Array(size);
      let at = 0;
      for (const c of chunks) {
        out.set(c, at);
        at += c.byteLength;
      }
      resolve(out.buffer);
    };
    const onError = (err: Error & { code?: string }) => {
      done();
      // A reset mid-body is the client leaving (499), not broken framing (400).
      if (err.code === "ECONNRESET") err.name = "AbortError";
      reject(err);
    };
    const onClose = () => {
      if (incoming.readableEnded) return onEnd();
      done();
      const err = new Error("The client closed the connection before its body was complete.");
      err.name = "AbortError";
      reject(err);
    };
    incoming.on("data", onData);
    incoming.on("end", onEnd);
    incoming.on("error", onError);
    incoming.on("close", onClose);
  });
}
