/**
 * A web `Response` for an upstream answer already read whole, under Node.
 *
 * Node 20 builds a ReadableStream for every `new Response(bytes)` (its constructor makes
 * the stream transferable: ~25-30 µs of CPU and garbage per call, measured in
 * bench/overhead). The gateway reads a non-streamed answer with `arrayBuffer()` and never
 * touches its stream, so this one hands the bytes over directly and builds the real
 * Response (and its stream) only if something asks for `body`, `clone()`, `blob()` or
 * `formData()`. It is an `instanceof Response`, with the same fields, and a body can be
 * read once, as with any Response.
 */

/** The Response constructor when this module loaded (the platform's, before any adapter replaced it). */
const NativeResponse = globalThis.Response;

const unusable = () => new TypeError("Body is unusable: it has already been read.");

class BufferedResponse {
  readonly status: number;
  readonly statusText = "";
  readonly headers: Headers;
  readonly ok: boolean;
  readonly redirected = false;
  readonly type = "default" as ResponseType;
  readonly url = "";
  #bytes: Uint8Array<ArrayBuffer> | undefined;
  #full: Response | undefined;

  constructor(bytes: Uint8Array<ArrayBuffer>, status: number, headers: Headers) {
    this.#bytes = bytes;
    this.status = status;
    this.ok = status >= 200 && status < 300;
    this.headers = headers;
  }

  /** The real Response, built once on first need; the bytes then belong to it. */
  #native(): Response {
    if (!this.#full) {
      const read = this.#bytes === undefined;
      this.#full = new NativeResponse(this.#bytes ?? new Uint8Array(), {
        status: this.status,
        headers: this.headers,
      });
      if (read) void this.#full.arrayBuffer().catch(() => {}); // read already: the real one says so too
      this.#bytes = undefined;
    }
    return this.#full;
  }

  /** The bytes, once; undefined when the body went to the real Response or was read. */
  #take(): Uint8Array<ArrayBuffer> | undefined {
    if (this.#full) return undefined;
    const bytes = this.#bytes;
    this.#bytes = undefined;
    return bytes;
  }

  get body(): ReadableStream<Uint8Array> | null {
    return this.#native().body;
  }

  get bodyUsed(): boolean {
    return this.#full ? this.#full.bodyUsed : this.#bytes === undefined;
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    if (this.#full) return this.#full.arrayBuffer();
    const bytes = this.#take();
    if (!bytes) return Promise.reject(unusable());
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    return Promise.resolve(whole ? bytes.buffer : bytes.slice().buffer);
  }

  bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return this.arrayBuffer().then((b) => new Uint8Array(b));
  }

  text(): Promise<string> {
    if (this.#full) return this.#full.text();
    const bytes = this.#take();
    return bytes ? Promise.resolve(new TextDecoder().decode(bytes)) : Promise.reject(unusable());
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
Object.setPrototypeOf(BufferedResponse.prototype, NativeResponse.prototype);

/** An answer of `status` with `headers` whose body is `bytes`, read whole already. */
export function bufferedResponse(bytes: Uint8Array<ArrayBuffer>, status: number, headers: Headers): Response {
  return new BufferedResponse(bytes, status, headers) as unknown as Response;
}
