/**
 * A byte-level reader of multipart/form-data bodies (RFC 7578 / RFC 2046), for the one
 * route that takes one (`/v1/audio/transcriptions`). The gateway needs the text fields
 * (`model`, `stream`) to route, and must forward the body as it came: so it locates the
 * parts in the original bytes, decodes only the text fields, never copies a file part, and
 * can replace one field's value (a rewritten model) by splicing the bytes around it.
 *
 * Written against the bytes rather than `Response.formData()` because that copies every
 * file into a Blob, and runtimes differ in what they accept; this reader behaves the same
 * on Bun, Node, Deno and Workers. Strict where it matters: CRLF line breaks, a
 * Content-Disposition with a name on every part, and a closing delimiter.
 */

/** One part of a form, located in the body's bytes. */
export interface FormPart {
  readonly name: string;
  /** Set for a file part (Content-Disposition `filename` or `filename*`). */
  readonly filename: string | undefined;
  /** The part's content is `bytes.subarray(start, end)`. */
  readonly start: number;
  readonly end: number;
}

/** The body is not a well-formed form; the message says what is wrong, for a 400. */
export class MultipartError extends Error {
  override readonly name = "MultipartError";
}

/** Most parts a form may have: a transcription form has a handful; more is an attack. */
export const MAX_FORM_PARTS = 256;
/** Longest header block of one part. */
const MAX_PART_HEADER_BYTES = 8192;

const CR = 13;
const LF = 10;
const DASH = 45;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** True when the content type is `multipart/form-data` (any parameters). */
export function isMultipartForm(contentType: string | null | undefined): boolean {
  return MULTIPART_FORM.test(contentType ?? "");
}

/** Module constants, not literals in the functions that run per request (see src/runtime/http1-parse.ts). */
const MULTIPART_FORM = /^\s*multipart\/form-data\s*(;|$)/i;
const BOUNDARY = /;\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^\s;"]{1,70}))\s*(?:;|$)/i;

/** The `boundary` parameter of a multipart content type (quoted or not), if valid (1-70 characters). */
export function boundaryOf(contentType: string): string | undefined {
  const m = BOUNDARY.exec(contentType);
  return m ? (m[1] ?? m[2]) : undefined;
}

/** Index of `seq` in `bytes` at or after `from`, or -1. Native indexOf finds the first byte. */
function indexOfSeq(bytes: Uint8Array, seq: Uint8Array, from: number): number {
  const first = seq[0]!;
  const last = bytes.length - seq.length;
  for (let i = bytes.indexOf(first, from); i !== -1 && i <= last; i = bytes.indexOf(first, i + 1)) {
    let j = 1;
    while (j < seq.length && bytes[i + j] === seq[j]) j++;
    if (j === seq.length) return i;
  }
  return -1;
}

/** Locates every part of a multipart/form-data body; throws MultipartError when it is malformed. */
export function formParts(bytes: Uint8Array, boundary: string): FormPart[] {
  const delimiter = encoder.encode(`--${boundary}`);
  const next = encoder.encode(`\r\n--${boundary}`);
  let pos: number;
  if (startsWith(bytes, delimiter, 0)) pos = delimiter.length;
  else {
    const found = indexOfSeq(bytes, next, 0);
    if (found === -1) throw new MultipartError(`the body does not contain the boundary '${boundary}'`);
    pos = found + next.length;
  }
  const parts: FormPart[] = [];
  for (;;) {
    if (bytes[pos] === DASH && bytes[pos + 1] === DASH) return parts;
    while (bytes[pos] === 32 || bytes[pos] === 9) pos++; // transport padding
    if (bytes[pos] !== CR || bytes[pos + 1] !== LF)
      throw new MultipartError(
        "a boundary line is not followed by CRLF (multipart bodies use CRLF line breaks)",
      );
    pos += 2;
    if (parts.length === MAX_FORM_PARTS)
      throw new MultipartError(`the form has more than ${MAX_FORM_PARTS} parts`);
    const headerEnd = indexOfSeq(bytes.subarray(0, pos + MAX_PART_HEADER_BYTES + 4), CRLF2, pos);
    if (headerEnd === -1) throw new MultipartError("a part's headers do not end with an empty line");
    const { name, filename } = disposition(decoder.decode(bytes.subarray(pos, headerEnd)));
    const start = headerEnd + 4;
    const end = indexOfSeq(bytes, next, start);
    if (end === -1) throw new MultipartError(`the part '${name}' is not closed by the boundary (cut short?)`);
    parts.push({ name, filename, start, end });
    pos = end + next.length;
  }
}

const CRLF2 = new Uint8Array([CR, LF, CR, LF]);

function startsWith(bytes: Uint8Array, prefix: Uint8Array, at: number): boolean {
  if (bytes.length - at < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false;
  return true;
}

/** The name and filename of a part, from its Content-Disposition header. */
function disposition(headerBlock: string): { name: string; filename: string | undefined } {
  const line = headerBlock.split("\r\n").find((l) => /^content-disposition\s*:/i.test(l));
  if (line === undefined) throw new MultipartError("a part has no Content-Disposition header");
  const params = new Map<string, string>();
  const re = /;\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) {
    const raw = m[2]!.trim();
    params.set(m[1]!.toLowerCase(), raw.startsWith('"') ? unquote(raw) : raw);
  }
  const name = params.get("name");
  if (name === undefined) throw new MultipartError("a part's Content-Disposition has no name");
  return { name, filename: params.get("filename") ?? params.get("filename*") };
}

/** A quoted-string's value: backslash escapes, and the %22/%0D/%0A escapes browsers use in names. */
function unquote(quoted: string): string {
  return quoted
    .slice(1, -1)
    .replace(/\\(.)/g, "$1")
    .replace(/%(22|0D|0A)/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/**
 * The text fields of a form (file parts left out), each value decoded as UTF-8; a field
 * sent more than once becomes a list of its values in order.
 */
export function formFields(bytes: Uint8Array, parts: readonly FormPart[]): Record<string, string | string[]> {
  const out = new Map<string, string | string[]>();
  for (const part of parts) {
    if (part.filename !== undefined) continue;
    const value = decoder.decode(bytes.subarray(part.start, part.end));
    const seen = out.get(part.name);
    if (seen === undefined) out.set(part.name, value);
    else if (Array.isArray(seen)) seen.push(value);
    else out.set(part.name, [seen, value]);
  }
  // fromEntries defines own properties, so a field named __proto__ stays a plain field.
  return Object.fromEntries(out);
}

/**
 * The same body with the first text field `name` set to `value`, every other byte as it
 * came (how a rewritten model reaches the pod). Throws when the form has no such field.
 */
export function replaceFormField(
  bytes: Uint8Array,
  parts: readonly FormPart[],
  name: string,
  value: string,
): Uint8Array<ArrayBuffer> {
  const part = parts.find((p) => p.name === name && p.filename === undefined);
  if (part === undefined) throw new MultipartError(`the form has no field '${name}'`);
  const encoded = encoder.encode(value);
  const out = new Uint8Array(bytes.length - (part.end - part.start) + encoded.length);
  out.set(bytes.subarray(0, part.start), 0);
  out.set(encoded, part.start);
  out.set(bytes.subarray(part.end), part.start + encoded.length);
  return out;
}
