import { GatewayError } from "../errors.ts";

const tooLarge = (limit: number) =>
  new GatewayError({
    status: 413,
    message: `Request body is larger than the gateway's limit of ${limit} bytes (setting maxBodyBytes).`,
    code: "request_too_large",
  });

/**
 * Reads a request body, refusing more than `limit` bytes without buffering them:
 * a declared length over the limit fails at once, an undeclared one as soon as it
 * passes the limit.
 */
export async function readBody(request: Request, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  const declared = request.headers.get("content-length");
  if (declared !== null) {
    if (Number(declared) > limit) throw tooLarge(limit);
    return new Uint8Array(await request.arrayBuffer());
  }
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
