/**
 * Model rewrite for a multipart body (`/v1/audio/transcriptions`): the `model` part's
 * value is replaced in the original bytes; the file part and every other byte stay as
 * they came, so an upload is never re-encoded.
 */
import { indexOfBytes, pattern } from "./bytes.ts";

const encoder = new TextEncoder();
const NAME = pattern('name="model"');
const BLANK_LINE = pattern("\r\n\r\n");
const NEXT_PART = pattern("\r\n--");
const DISPOSITION = "content-disposition:";

/** True when the line holding `at` is a part's `Content-Disposition` header. */
function inDisposition(bytes: Uint8Array, at: number): boolean {
  let start = at;
  while (start > 0 && bytes[start - 1] !== 0x0a) start--;
  for (let i = 0; i < DISPOSITION.length; i++) {
    const b = bytes[start + i];
    if (b === undefined || String.fromCharCode(b).toLowerCase() !== DISPOSITION[i]) return false;
  }
  return true;
}

/** `bytes` with the `model` field set to `model`; as they came when there is no such field. */
export function multipartWithModel(bytes: Uint8Array<ArrayBuffer>, model: string): Uint8Array<ArrayBuffer> {
  for (let at = indexOfBytes(bytes, NAME); at !== -1; at = indexOfBytes(bytes, NAME, at + 1)) {
    const after = bytes[at + NAME.length];
    if ((after !== 0x0d && after !== 0x3b) || !inDisposition(bytes, at)) continue;
    const headersEnd = indexOfBytes(bytes, BLANK_LINE, at);
    if (headersEnd === -1) break;
    const start = headersEnd + BLANK_LINE.length;
    const end = indexOfBytes(bytes, NEXT_PART, start);
    if (end === -1) break;
    const value = encoder.encode(model);
    const out = new Uint8Array(bytes.length - (end - start) + value.length);
    out.set(bytes.subarray(0, start), 0);
    out.set(value, start);
    out.set(bytes.subarray(end), start + value.length);
    return out;
  }
  return bytes;
}
