import { describe, expect, test } from "bun:test";
import type { InferenceRequest, TargetModel } from "../../src/request.ts";
import { upstreamBody } from "../../src/stages/forward.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function request(
  kind: string,
  body: Record<string, unknown>,
  bytes?: Uint8Array<ArrayBuffer>,
): InferenceRequest {
  return {
    kind,
    path: "/v1/x",
    model: String(body["model"]),
    stream: body["stream"] === true,
    body,
    bytes: bytes ?? enc.encode(JSON.stringify(body)),
    objective: undefined,
    fairnessId: "default-flow",
    modelRewriteHeader: undefined,
  } as unknown as InferenceRequest;
}
const to = (requested: string, target: string): TargetModel => ({
  requested,
  target,
  rewriteName: undefined,
});

describe("upstreamBody", () => {
  test("nothing to change: the client's very bytes", () => {
    const req = request("chat", { model: "m", messages: [] });
    expect(upstreamBody(req, to("m", "m")).bytes).toBe(req.bytes);
  });

  test("a chat stream without stream_options gets it in front of its own bytes, not re-serialised", () => {
    const text = '{ "model": "m",  "stream": true, "messages": [{"role":"user","content":"héllo"}] }';
    const req = request("chat", JSON.parse(text), enc.encode(text));
    const { bytes, usageInjected } = upstreamBody(req, to("m", "m"));
    expect(usageInjected).toBe(true);
    const out = dec.decode(bytes);
    expect(out.endsWith(text.slice(1))).toBe(true); // spacing kept: the original bytes follow
    expect(JSON.parse(out)).toEqual({ ...JSON.parse(text), stream_options: { include_usage: true } });
  });

  test("a stream that said include_usage: false is asked for usage all the same", () => {
    const req = request("completions", {
      model: "m",
      stream: true,
      stream_options: { include_usage: false },
    });
    const { bytes, usageInjected } = upstreamBody(req, to("m", "m"));
    expect(usageInjected).toBe(true);
    expect(JSON.parse(dec.decode(bytes)).stream_options).toEqual({ include_usage: true });
  });

  test("Responses and Messages streams report usage unasked: no stream_options", () => {
    for (const kind of ["responses", "messages"]) {
      const req = request(kind, { model: "m", stream: true, input: "x" });
      const r = upstreamBody(req, to("m", "m"));
      expect(r.usageInjected).toBe(false);
      expect(r.bytes).toBe(req.bytes);
    }
  });

  test("a rewritten model is what the pod is asked for", () => {
    const req = request("embeddings", { model: "alias", input: "x" });
    expect(JSON.parse(dec.decode(upstreamBody(req, to("alias", "m")).bytes))).toEqual({
      model: "m",
      input: "x",
    });
  });

  test("transcriptions: the multipart model part is replaced in place, the file bytes untouched", async () => {
    const form = new FormData();
    form.append("file", new Blob([enc.encode('name="model"\r\n\r\nnot a field')]), "a.wav");
    form.append("model", "alias");
    form.append("language", "en");
    const original = new Response(form);
    const type = original.headers.get("content-type")!;
    const bytes = new Uint8Array(await original.arrayBuffer());
    const req = request("transcriptions", { model: "alias", language: "en" }, bytes);
    const out = upstreamBody(req, to("alias", "whisper-large"));
    expect(out.usageInjected).toBe(false);
    const parsed = await new Response(out.bytes, { headers: { "content-type": type } }).formData();
    expect(parsed.get("model")).toBe("whisper-large");
    expect(parsed.get("language")).toBe("en");
    const file = parsed.get("file") as Blob;
    expect(dec.decode(await file.arrayBuffer())).toBe('name="model"\r\n\r\nnot a field');
  });
});
