/**
 * The relay's direct shape under Node: the answer body the Node entry asks the relay for
 * (GatewayOptions.directStreams = nodeDirectStreams). Under Node 20 a standard
 * `ReadableStream` costs ~19 µs to build, and every chunk a pull, a promise and the
 * writer's read; with this body, `writeResponse` (node-respond.ts) hands the relay's one
 * pull a controller whose `write` is `ServerResponse.write` (a promise only while the
 * socket is full: backpressure reaches the pod), so chunks go from the pod's socket to the
 * client's in one loop. The relay's contract is the Bun shape's (src/proxy/relay.ts): same
 * tap, idle timeout, shutdown, cancel and `onEnd` exactly once.
 *
 * Anyone else who reads the body (node-server's own listener, a stage that wraps the answer,
 * a platform `Response` built over it) gets a standard stream over the same source, built
 * then: the object answers `getReader()` and async iteration like a stream.
 */
import type { DirectController, DirectSource } from "../proxy/relay.ts";

/** Where `writeResponse` finds the source of a body it may drive itself. */
export const NODE_DIRECT = Symbol.for("inference-gateway.nodeDirect");

/** The relay's source as an answer body (see the module's comment). */
export class NodeDirectBody {
  #source: DirectSource;
  #taken = false;
  #stream: ReadableStream<Uint8Array> | undefined;

  constructor(source: DirectSource) {
    this.#source = source;
  }

  /** The source, once, for the writer that drives it; undefined when the body was read as a stream. */
  [NODE_DIRECT](): DirectSource | undefined {
    if (this.#taken || this.#stream) return undefined;
    this.#taken = true;
    return this.#source;
  }

  get locked(): boolean {
    return this.#taken || (this.#stream?.locked ?? false);
  }

  getReader(): ReadableStreamDefaultReader<Uint8Array> {
    return this.#standard().getReader();
  }

  cancel(reason?: unknown): Promise<void> {
    return this.#standard().cancel(reason);
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return (this.#standard() as unknown as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  }

  /** A standard stream over the source, built on first use (one chunk per pull, as the relay's standard shape). */
  #standard(): ReadableStream<Uint8Array> {
    if (this.#stream) return this.#stream;
    if (this.#taken) throw new TypeError("The answer's body is already being written.");
    this.#stream = standardStream(this.#source);
    return this.#stream;
  }
}

/** GatewayOptions.directStreams for the Node entry: the relay's source as a NodeDirectBody. */
export function nodeDirectStreams(source: DirectSource): ReadableStream<Uint8Array> {
  return new NodeDirectBody(source) as unknown as ReadableStream<Uint8Array>;
}

/**
 * A pull stream over a direct source: each write is enqueued and waits for the next pull
 * (highWaterMark 0), so the source reads the pod only as fast as the reader reads.
 */
function standardStream(source: DirectSource): ReadableStream<Uint8Array> {
  let wake: (() => void) | undefined;
  let started = false;
  let done = false;
  return new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (wake) {
          const w = wake;
          wake = undefined;
          w();
          return;
        }
        if (started) return;
        started = true;
        const controller: DirectController = {
          write(bytes) {
            if (done) return 0; // cancelled by the reader: the relay ends on its next read
            c.enqueue(bytes);
            if ((c.desiredSize ?? 0) > 0) return bytes.byteLength;
            return new Promise<number>((resolve) => {
              wake = () => resolve(bytes.byteLength);
            });
          },
          flush: () => 0,
          close(error) {
            if (done) return;
            done = true;
            if (error) c.error(error);
            else c.close();
          },
        };
        void source.pull(controller);
      },
      cancel(reason) {
        done = true;
        // A write waiting for a pull goes on (the relay sees it ended and stops).
        const w = wake;
        wake = undefined;
        w?.();
        return source.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
