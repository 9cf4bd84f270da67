import { badRequest, GatewayError } from "../errors.ts";
import { boundaryOf, formFields, formParts, isMultipartForm, MultipartError } from "./multipart.ts";

/**
 * Turning a route's raw body into the object its schema validates: a JSON object, or a
 * multipart form's text fields. The bytes are read by the caller (read-body.ts, which
 * enforces maxBodyBytes and bodyReadTimeoutMs) and returned untouched for forwarding.
 */

/** A parsed body and the bytes it came from. */
export interface ReadBody {
  readonly body: Record<string, unknown>;
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** Names of the form's file parts (multipart only). */
  readonly files?: readonly string[];
}

type Read = () => Promise<Uint8Array<ArrayBuffer>>;
const decoder = new TextDecoder();

const unsupported = (message: string) =>
  new GatewayError({ status: 400, message, code: "unsupported_content_type" });

/**
 * A form sent to a JSON route is refused before its body is read, as OpenAI does (400
 * `unsupported_content_type`), naming the one route that takes a form. Other content
 * types are not checked: clients (curl -d) often send JSON labelled as something else.
 */
export function refuseForm(contentType: string | null, path: string): void {
  if (isMultipartForm(contentType))
    throw unsupported(
      `${path} takes a JSON body, not multipart/form-data (only /v1/audio/transcriptions and /v1/audio/translations take a form). Send the request as JSON with content-type: application/json.`,
    );
}

/**
 * Parses a JSON object body from its bytes (400 `invalid_json` otherwise). The caller
 * awaits the read itself (read-body.ts): no async frame of its own here, so a request has
 * one promise and one microtask less than when this took a `read` (issue 19, fifth pass).
 */
export function parseJsonBody(bytes: Uint8Array<ArrayBuffer>): ReadBody {
  return { body: parseJsonObject(bytes), bytes };
}

/**
 * `parseJsonBody`'s object alone, for a caller that keeps the bytes itself (the parse stage:
 * no result object a request; issue 19, tenth pass).
 */
export function parseJsonObject(bytes: Uint8Array<ArrayBuffer>): Record<string, unknown> {
  let json: unknown;
  try {
    json = parseBytes(bytes);
  } catch {
    throw badRequest(
      "We could not parse the JSON body of your request. Send a JSON object.",
      null,
      "invalid_json",
    );
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw badRequest("The request body must be a JSON object.", null, "invalid_json");
  }
  return json as Record<string, unknown>;
}

/** Bun's JSON Lines parser, where the runtime has one (structurally typed: Node and workers have none). */
const JSONL = (
  globalThis as {
    Bun?: {
      JSONL?: { parseChunk(bytes: Uint8Array): { values: unknown[]; done: boolean; error: unknown } };
    };
  }
).Bun?.JSONL;

/**
 * `node:buffer`'s `isAscii` (a native scan: ~0.2 µs for 30 KiB under Bun), taken only where the
 * JSON Lines parser is (the Worker bundle imports no `node:` module; `process.getBuiltinModule`
 * needs no import).
 */
const isAscii =
  JSONL === undefined
    ? undefined
    : (
        globalThis as {
          process?: {
            getBuiltinModule?(id: string): { isAscii?(bytes: Uint8Array): boolean } | undefined;
          };
        }
      ).process?.getBuiltinModule?.("node:buffer")?.isAscii;

/**
 * `JSON.parse` of the bytes as UTF-8 text, without the decoded text under Bun when the body is
 * ASCII: Bun's JSON Lines parser reads ASCII bytes in place, so a 30 KiB prompt is made into a
 * string once (the parsed value) instead of twice (the decoded body, then the value): a 30 KiB
 * request ~3-4 µs less end to end (issue 19, twenty-seventh pass; earlier passes measured it
 * worse, before `npm start` kept the allocator's pages; docs/overhead-bodies.md). Not for other
 * UTF-8: there it is 2-3.6× slower than decode + `JSON.parse` (a 30 KiB CJK prompt 72 against 26
 * µs in process). Its value is used only when the bytes held exactly one value and nothing else;
 * any other answer (two values, trailing bytes, an error, nothing) goes to `JSON.parse`, which
 * then gives the value or the error it always gave. On every input compared
 * (test/openai/json-body.test.ts: a BOM, bad UTF-8, lone surrogates, `__proto__`, repeated keys,
 * numbers past double range, escapes, pretty-printed and CRLF bodies, deep nesting) the two
 * parsers agree.
 */
function parseBytes(bytes: Uint8Array): unknown {
  if (isAscii?.(bytes)) {
    const one = JSONL!.parseChunk(bytes);
    if (one.values.length === 1 && one.done && one.error === null) return one.values[0];
  }
  return JSON.parse(decoder.decode(bytes));
}

/**
 * Reads a multipart/form-data body: the text fields become `body` (strings; a repeated
 * field a list), the file parts are only named. The content type is checked before the
 * body is read; a malformed form is a 400 `invalid_multipart` saying what is wrong.
 */
export async function formBody(read: Read, contentType: string | null): Promise<ReadBody> {
  if (!isMultipartForm(contentType))
    throw unsupported(
      `This route takes a multipart/form-data body (the audio in a 'file' part, the model in a 'model' field), but the request's content type is ${contentType ? `'${contentType.slice(0, 100)}'` : "missing"}. With curl, use -F file=@audio.wav -F model=<model>.`,
    );
  const boundary = boundaryOf(contentType!);
  if (boundary === undefined)
    throw badRequest(
      "The multipart/form-data content type has no valid boundary parameter (1 to 70 characters). Let your HTTP client set the content type of a form.",
      null,
      "invalid_multipart",
    );
  const bytes = await read();
  try {
    const parts = formParts(bytes, boundary);
    const files = parts.filter((p) => p.filename !== undefined).map((p) => p.name);
    return { body: formFields(bytes, parts), bytes, files };
  } catch (err) {
    if (!(err instanceof MultipartError)) throw err;
    throw badRequest(
      `The multipart/form-data body could not be read: ${err.message}.`,
      null,
      "invalid_multipart",
    );
  }
}

/** Refuses a form without the file part `name` (OpenAI's 400 naming the parameter). */
export function requireFile(read: ReadBody, name: string): void {
  if (read.files?.includes(name)) return;
  const asText = read.body[name] !== undefined;
  throw new GatewayError({
    status: 400,
    message: asText
      ? `Invalid value for '${name}': expected a file upload (a form part with a filename), got a text field.`
      : `Missing required parameter: '${name}'. Upload the audio as a form part named '${name}'.`,
    param: name,
    code: asText ? "invalid_value" : "missing_required_parameter",
  });
}
