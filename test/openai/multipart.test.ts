import { describe, expect, test } from "bun:test";
import {
  boundaryOf,
  formFields,
  formParts,
  MultipartError,
  replaceFormField,
} from "../../src/openai/multipart.ts";
import { type Parsed, parseApp } from "./parse-app.ts";

const PATH = "/v1/audio/transcriptions";
const enc = new TextEncoder();

/** Audio-like bytes that contain CR, LF and dashes, and even "\r\n--" not followed by the boundary. */
function audio(size = 4096): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7919 + 13) % 256;
  if (size >= 256) bytes.set(enc.encode("\r\n--not-the-boundary\r\n\r\n"), 100);
  return bytes;
}

/** A form as the platform's FormData serializes it (the way SDKs send it). */
async function platformForm(fields: Record<string, string>, file?: Uint8Array<ArrayBuffer>) {
  const form = new FormData();
  if (file) form.set("file", new Blob([file], { type: "audio/wav" }), "speech.wav");
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  const req = new Request(`http://gw${PATH}`, { method: "POST", body: form });
  return { contentType: req.headers.get("content-type")!, bytes: new Uint8Array(await req.arrayBuffer()) };
}

/** A form written by hand, CRLF line breaks, the file first, a quoted boundary and a preamble. */
function handForm(file: Uint8Array) {
  const b = "----hand-made:boundary";
  const head = enc.encode(
    `preamble the parser must skip\r\n--${b}\r\n` +
      `Content-Disposition: form-data; name="file"; filename="a \\"quoted\\" name.wav"\r\nContent-Type: audio/wav\r\n\r\n`,
  );
  const tail = enc.encode(
    `\r\n--${b}\r\ncontent-disposition: form-data; name="model"\r\n\r\nwhisper-große\r\n` +
      `--${b}\r\nContent-Disposition: form-data; name="timestamp_granularities[]"\r\n\r\nword\r\n` +
      `--${b}\r\nContent-Disposition: form-data; name="timestamp_granularities[]"\r\n\r\nsegment\r\n` +
      `--${b}--\r\nepilogue`,
  );
  const bytes = new Uint8Array(head.length + file.length + tail.length);
  bytes.set(head, 0);
  bytes.set(file, head.length);
  bytes.set(tail, head.length + file.length);
  return { contentType: `multipart/form-data; boundary="${b}"`, bytes };
}

const post = (form: { contentType: string; bytes: Uint8Array<ArrayBuffer> }) =>
  new Request(`http://gw${PATH}`, {
    method: "POST",
    headers: { "content-type": form.contentType },
    body: form.bytes,
  });

async function refusal(res: Response, status = 400) {
  expect(res.status).toBe(status);
  return ((await res.json()) as { error: Record<string, unknown> }).error;
}

describe("multipart: the form's text fields are read from the bytes, the file is left alone", () => {
  test("a form the platform's FormData builds (as the OpenAI SDKs send it)", async () => {
    const form = await platformForm({ model: "whisper", language: "en", stream: "true" }, audio());
    const res = await parseApp().request(post(form));
    expect(res.status).toBe(200);
    const parsed = (await res.json()) as Parsed;
    expect(parsed).toMatchObject({ kind: "transcriptions", path: PATH, model: "whisper", stream: true });
    expect(parsed.body).toEqual({ model: "whisper", language: "en", stream: "true" });
    expect(parsed.bytes).toBe(form.bytes.length);
  });

  test("a hand-written CRLF form: quoted boundary, preamble, file first, UTF-8, a repeated field", async () => {
    const form = handForm(audio());
    const parts = formParts(form.bytes, boundaryOf(form.contentType)!);
    expect(parts.map((p) => [p.name, p.filename])).toEqual([
      ["file", 'a "quoted" name.wav'],
      ["model", undefined],
      ["timestamp_granularities[]", undefined],
      ["timestamp_granularities[]", undefined],
    ]);
    expect(form.bytes.subarray(parts[0]!.start, parts[0]!.end)).toEqual(audio());
    expect(formFields(form.bytes, parts)).toEqual({
      model: "whisper-große",
      "timestamp_granularities[]": ["word", "segment"],
    });
    const parsed = (await (await parseApp().request(post(form))).json()) as Parsed;
    expect(parsed.model).toBe("whisper-große");
    expect(parsed.stream).toBe(false);
  });

  test("the platform's own parser agrees with ours on the same bytes", async () => {
    const form = handForm(audio());
    const theirs = await new Response(form.bytes, {
      headers: { "content-type": form.contentType },
    }).formData();
    const ours = formFields(form.bytes, formParts(form.bytes, boundaryOf(form.contentType)!));
    expect(ours["model"]).toBe(theirs.get("model") as string);
    expect(ours["timestamp_granularities[]"]).toEqual(theirs.getAll("timestamp_granularities[]") as string[]);
  });

  test("a rewritten model is spliced in; every other byte, the file included, is as it came", async () => {
    const form = await platformForm({ model: "whisper", language: "en" }, audio());
    const parts = formParts(form.bytes, boundaryOf(form.contentType)!);
    const out = replaceFormField(form.bytes, parts, "model", "whisper-large-v3");
    const reread = await new Response(out, { headers: { "content-type": form.contentType } }).formData();
    expect(reread.get("model")).toBe("whisper-large-v3");
    expect(reread.get("language")).toBe("en");
    expect(new Uint8Array(await (reread.get("file") as Blob).arrayBuffer())).toEqual(audio());
    expect(out.length).toBe(form.bytes.length + "-large-v3".length);
    expect(() => replaceFormField(form.bytes, parts, "prompt", "x")).toThrow(MultipartError);
  });

  test("a field named __proto__ stays a plain field", async () => {
    const form = await platformForm(JSON.parse('{"model":"m","__proto__":"x"}'), audio(256));
    const fields = formFields(form.bytes, formParts(form.bytes, boundaryOf(form.contentType)!));
    expect(Object.getPrototypeOf(fields)).toBe(Object.prototype);
    expect(Object.hasOwn(fields, "__proto__")).toBe(true);
  });
});

describe("multipart: what cannot be routed is refused with a 4xx that says what to change", () => {
  test("JSON sent to the transcription route → 400 unsupported_content_type", async () => {
    const res = await parseApp().request(
      new Request(`http://gw${PATH}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      }),
    );
    const error = await refusal(res);
    expect(error["code"]).toBe("unsupported_content_type");
    expect(error["message"]).toContain("multipart/form-data");
  });

  test("a multipart content type without a boundary → 400 invalid_multipart", async () => {
    const res = await parseApp().request(
      post({ contentType: "multipart/form-data", bytes: enc.encode("x") }),
    );
    expect((await refusal(res))["code"]).toBe("invalid_multipart");
  });

  test.each([
    ["no model field", { language: "en" }, true, "model", "missing_required_parameter"],
    ["an empty model", { model: "" }, true, "model", "invalid_value"],
    ["no file", { model: "whisper" }, false, "file", "missing_required_parameter"],
    ["the file as a text field", { model: "whisper", file: "hello" }, false, "file", "invalid_value"],
    ["stream neither true nor false", { model: "whisper", stream: "yes" }, true, "stream", "invalid_value"],
  ])("%s → 400 naming the field", async (_name, fields, withFile, param, code) => {
    const form = await platformForm(fields as Record<string, string>, withFile ? audio(256) : undefined);
    const error = await refusal(await parseApp().request(post(form)));
    expect(error).toMatchObject({ param, code, type: "invalid_request_error" });
  });

  const cut = (s: string) => ({ contentType: "multipart/form-data; boundary=XX", bytes: enc.encode(s) });
  test.each([
    ["LF line breaks", cut('--XX\nContent-Disposition: form-data; name="model"\n\nm\n--XX--\n')],
    ["cut short (no closing boundary)", cut('--XX\r\nContent-Disposition: form-data; name="model"\r\n\r\nm')],
    ["a part without Content-Disposition", cut("--XX\r\nContent-Type: text/plain\r\n\r\nm\r\n--XX--")],
    ["a part without a name", cut("--XX\r\nContent-Disposition: form-data\r\n\r\nm\r\n--XX--")],
    ["another boundary", cut('--YY\r\nContent-Disposition: form-data; name="model"\r\n\r\nm\r\n--YY--')],
    ["an empty body", cut("")],
  ])("a malformed form (%s) → 400 invalid_multipart", async (_name, form) => {
    const error = await refusal(await parseApp().request(post(form)));
    expect(error["code"]).toBe("invalid_multipart");
    expect(error["message"]).toStartWith("The multipart/form-data body could not be read: ");
  });

  test("too many parts → 400, not a huge field map", async () => {
    const many = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f${i}`, "x"]));
    const error = await refusal(await parseApp().request(post(await platformForm({ model: "m", ...many }))));
    expect(error["message"]).toContain("more than 256 parts");
  });

  test("a form over maxBodyBytes → 413, with a declared length or streamed without one", async () => {
    const form = await platformForm({ model: "whisper" }, audio(64 * 1024));
    const app = parseApp({ maxBodyBytes: 16 * 1024 });
    expect((await refusal(await app.request(post(form)), 413))["code"]).toBe("request_too_large");
    const streamed = new Request(`http://gw${PATH}`, {
      method: "POST",
      headers: { "content-type": form.contentType },
      body: new Blob([form.bytes]).stream(),
      duplex: "half",
    } as RequestInit);
    expect(streamed.headers.get("content-length")).toBeNull();
    expect((await refusal(await app.request(streamed), 413))["code"]).toBe("request_too_large");
  });
});
