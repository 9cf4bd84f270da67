import type { FetchFn } from "../deps.ts";

/**
 * Upstream fetch that decodes compressed bodies itself. The gateway asks pods for
 * `identity`; a pod that sends `content-encoding: gzip` anyway may be lying. Bun's own
 * decoder then prints a bare, non-JSON "Decompression error" line to the console, so
 * its decoding is turned off (`decompress: false`, ignored by runtimes that lack it)
 * and the body is decoded here only when its bytes really are gzip or zlib (magic
 * bytes): a body that was already decoded, or was never compressed, passes as it is;
 * a corrupt one errors the stream, which the proxy turns into a 502 or an SSE error
 * event, logged as JSON like everything else.
 */
export function decodingFetch(base: FetchFn): FetchFn {
  return (url, init) => {
    // Set on the caller's own init (a fresh object per attempt) rather than a copy of it.
    (init as RequestInit & { decompress?: boolean }).decompress = false;
    return base(url, init).then(decoded);
  };
}

/** The response as it is unless it says gzip/deflate (no async frame per request: a plain `then`). */
function decoded(res: Response): Response {
  const encoding = res.headers.get("content-encoding");
  if (!encoding || !res.body) return res;
  const e = encoding.trim().toLowerCase();
  if (e !== "gzip" && e !== "x-gzip" && e !== "deflate") return res;
  return new Response(decodeIfCompressed(res.body), {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
  });
}

/** gzip (1f 8b) or zlib (0x78, header checksum divisible by 31). */
function compressedFormat(b: Uint8Array): "gzip" | "deflate" | undefined {
  if (b.length < 2) return undefined;
  if (b[0] === 0x1f && b[1] === 0x8b) return "gzip";
  if ((b[0]! & 0x0f) === 8 && ((b[0]! << 8) | b[1]!) % 31 === 0) return "deflate";
  return undefined;
}

/** Looks at the first chunk, then passes the body through a DecompressionStream or untouched. */
function decodeIfCompressed(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let rest: ReadableStreamDefaultReader<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        if (!rest) {
          const first = await reader.read();
          if (first.done) return c.close();
          const format = compressedFormat(first.value);
          if (!format) {
            rest = reader;
            c.enqueue(first.value);
            return;
          }
          const replay = new ReadableStream<Uint8Array>({
            start: (s) => s.enqueue(first.value),
            pull: async (s) => {
              const r = await reader.read();
              if (r.done) s.close();
              else s.enqueue(r.value);
            },
            cancel: (reason) => reader.cancel(reason),
          });
          rest = replay
            .pipeThrough(
              new DecompressionStream(format) as unknown as TransformStream<Uint8Array, Uint8Array>,
            )
            .getReader();
        }
        const r = await rest.read();
        if (r.done) c.close();
        else c.enqueue(r.value);
      },
      cancel: (reason) => (rest ?? reader).cancel(reason),
    },
    { highWaterMark: 0 },
  );
}
