/**
 * Web `Response`s for upstream answers under Node that build no more than they must.
 *
 * Node 20 builds a ReadableStream for every `new Response(bytes)`, and each stream costs
 * ~25-30 µs of CPU and garbage (its constructor makes it transferable; measured in
 * bench/overhead). The gateway reads a non-streamed answer with `arrayBuffer()` and never
 * touches its stream, and reads a streamed one (SSE) chunk by chunk. So an answer read
 * whole hands its bytes over directly, a streamed one hands over its chunks (`CHUNK_SOURCE`,
 * node-chunks.ts) or a web stream over them when `body` is asked for, and the platform's
 * Response is built only if something asks for more (`clone()`, `blob()`, `formData()`, or
 * a streamed body read as a whole). They are `instanceof Response`, with the same fields,
 * and a body can be read once, as always.
 */
import { HOP_NAMES } from "../proxy/headers.ts";
import { CHUNK_SOURCE, ChunkQueue, streamOf } from "./node-chunks.ts";

/** The Response constructor when this module loaded (the platform's, before any adapter replaced it). */
const NativeResponse = globalThis.Response;

/** One decoder for every `text()` (making one costs ~0.65 µs under Node 20; without `stream`, decode keeps no state between calls). */
const utf8 = new TextDecoder();

const unusable = () => new TypeError("Body is unusable: it has already been read.");

/**
 * Where a pod client's Response hands over a body it read whole at once, without a promise
 * (respond.ts: a JSON answer's bytes, with no await, async frame or shutdown watch around
 * reading what is already here; issue 19, twelfth pass). Undefined for any other body.
 */
export const WHOLE_BYTES = Symbol.for("inference-gateway.wholeBytes");

class UpstreamResponse {
  readonly status: number;
  readonly statusText = "";
  readonly headers: Headers;
  readonly ok: boolean;
  readonly redirected = false;
  readonly type = "default" as ResponseType;
  readonly url = "";
  /** The hop-by-hop names the pod client read in the head, when it says (HOP_NAMES). */
  readonly [HOP_NAMES]: readonly string[] | undefined;
  #bytes: Uint8Array<ArrayBuffer> | undefined;
  #stream: ReadableStream<Uint8Array> | undefined;
  /** A streamed body's chunks, until they are taken (`CHUNK_SOURCE`) or a stream is built over them. */
  #queue: ChunkQueue | undefined;
  #full: Response | undefined;

  constructor(
    body: Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array> | ChunkQueue,
    status: number,
    headers: Headers,
    hop: readonly string[] | undefined,
  ) {
    if (body instanceof Uint8Array) this.#bytes = body;
    else if (body instanceof ChunkQueue) this.#queue = body;
    else this.#stream = body;
    this.status = status;
    this.ok = status >= 200 && status < 300;
    this.headers = headers;
    this[HOP_NAMES] = hop;
  }

  /** A streamed body's chunks, once and only while nothing else read it; undefined otherwise. */
  [CHUNK_SOURCE](): ChunkQueue | undefined {
    const queue = this.#queue;
    this.#queue = undefined;
    return queue;
  }

  /** The stream over the queue, built on first need. */
  #streamed(): ReadableStream<Uint8Array> | undefined {
    if (this.#queue) {
      this.#stream = streamOf(this.#queue);
      this.#queue = undefined;
    }
    return this.#stream;
  }

  /** The platform's Response, built once on first need; the body then belongs to it. */
  #native(): Response {
    if (!this.#full) {
      this.#streamed();
      const read = this.#bytes === undefined && this.#stream === undefined;
      this.#full = new NativeResponse(this.#stream ?? this.#bytes ?? new Uint8Array(), {
        status: this.status,
        headers: this.headers,
      });
      if (read) void this.#full.arrayBuffer().catch(() => {}); // read already: the platform's one says so too
      this.#bytes = undefined;
      this.#stream = undefined;
    }
    return this.#full;
  }

  get body(): ReadableStream<Uint8Array> | null {
    return this.#streamed() ?? this.#native().body;
  }

  get bodyUsed(): boolean {
    if (this.#full) return this.#full.bodyUsed;
    if (this.#queue) return false;
    if (this.#stream) return this.#stream.locked;
    return this.#bytes === undefined;
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    if (this.#full || this.#stream || this.#queue) return this.#native().arrayBuffer();
    const bytes = this.#bytes;
    if (!bytes) return Promise.reject(unusable());
    this.#bytes = undefined;
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    return Promise.resolve(whole ? bytes.buffer : bytes.slice().buffer);
  }

  /**
   * The body's bytes as the pod client collected them: a view into the buffer it read them
   * into, handed over as it is (no copy: nothing else holds or writes that buffer once the
   * answer is complete). `arrayBuffer()` must copy a partial view (`slice`); the gateway
   * reads a whole answer here instead (respond.ts).
   */
  bytes(): Promise<Uint8Array<ArrayBuffer>> {
    if (this.#full || this.#stream || this.#queue) return this.arrayBuffer().then((b) => new Uint8Array(b));
    const bytes = this.#bytes;
    if (!bytes) return Promise.reject(unusable());
    this.#bytes = undefined;
    return Promise.resolve(bytes);
  }

  /** The body's bytes now, as `bytes()` gives them, when it was read whole; undefined otherwise (nothing taken). */
  [WHOLE_BYTES](): Uint8Array<ArrayBuffer> | undefined {
    if (this.#full || this.#stream || this.#queue) return undefined;
    const bytes = this.#bytes;
    this.#bytes = undefined;
    return bytes;
  }

  text(): Promise<string> {
    if (this.#full || this.#stream || this.#queue) return this.#native().text();
    return this.arrayBuffer().then((b) => utf8.decode(b));
  }

  json(): Promise<unknown> {
    return this.text().then(JSON.parse);
  }

  blob(): Promise<Blob> {
    return this.#native().blob();
  }

  formData(): Promise<FormData> {
    return this.#native().formData();
  }

  clone(): Response {
    return this.#native().clone();
  }
}
Object.setPrototypeOf(UpstreamResponse.prototype, NativeResponse.prototype);

/**
 * An answer of `status` with `headers` whose body, `bytes`, was read whole already; `hop`: the
 * hop-by-hop names its head held, when the client read them (offered under HOP_NAMES).
 */
export function bufferedResponse(
  bytes: Uint8Array<ArrayBuffer>,
  status: number,
  headers: Headers,
  hop?: readonly string[],
): Response {
  return new UpstreamResponse(bytes, status, headers, hop) as unknown as Response;
}

/** An answer of `status` with `headers` whose body is read from `stream` (or a queue of its chunks) as the relay pulls. */
export function streamedResponse(
  stream: ReadableStream<Uint8Array> | ChunkQueue,
  status: number,
  headers: Headers,
  hop?: readonly string[],
): Response {
  return new UpstreamResponse(stream, status, headers, hop) as unknown as Response;
}
