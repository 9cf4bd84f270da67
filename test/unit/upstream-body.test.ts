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

describe("a renamed model is spliced into the client's bytes", () => {
  const renamed = (text: string, target = "pod-model", kind = "chat") => {
    const req = request(kind, JSON.parse(text), enc.encode(text));
    return upstreamBody(req, to(String(JSON.parse(text).model), target));
  };

  test("only the top-level value changes: spacing, key order, nested 'model' keys and the prompt stay as sent", () => {
    const text =
      '{ "messages" : [ {"role":"user","content":"say \\"model\\": \\"x\\" ü","model":"m"} ],\n  "model" :  "alias" , "n": 1 }';
    const out = dec.decode(renamed(text).bytes);
    expect(out).toBe(text.replace('"alias"', '"pod-model"'));
  });

  test("a repeated model key: the last one is the one JSON.parse read, and the one replaced", () => {
    const text = '{"model":"first","model":"alias","messages":[]}';
    expect(JSON.parse(dec.decode(renamed(text).bytes)).model).toBe("pod-model");
    expect(dec.decode(renamed(text).bytes)).toBe('{"model":"first","model":"pod-model","messages":[]}');
  });

  test("an escaped key that may spell model: re-serialised, still right", () => {
    const text = '{"model":"a","mod\\u0065l":"alias","x":1}';
    expect(JSON.parse(dec.decode(renamed(text).bytes))).toEqual({ model: "pod-model", x: 1 });
  });

  test("a name that needs escaping is written as JSON", () => {
    const text = '{"model":"alias","input":"x"}';
    const out = dec.decode(renamed(text, 'we"ird\\name', "embeddings").bytes);
    expect(JSON.parse(out)).toEqual({ model: 'we"ird\\name', input: "x" });
  });

  test("renamed and asked for usage: both in one copy of the bytes", () => {
    const text = '{"model":"alias","stream":true,"prompt":"hello"}';
    const out = renamed(text, "pod-model", "completions");
    expect(out.usageInjected).toBe(true);
    expect(dec.decode(out.bytes)).toBe(
      '{"stream_options":{"include_usage":true},"model":"pod-model","stream":true,"prompt":"hello"}',
    );
  });

  test("random bodies: the spliced bytes parse to the body with the new name", () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const pieces = ['"', "\\", "model", '"model":', "{", "}", "[", "]", ",", " ", "é", "\n", "x"];
    const text = () => Array.from({ length: rnd(12) }, () => pieces[rnd(pieces.length)]).join("");
    const value = (depth: number): unknown => {
      const k = rnd(depth > 2 ? 4 : 6);
      if (k === 0) return text();
      if (k === 1) return rnd(1000) - 500 + rnd(10) / 10;
      if (k === 2) return [true, false, null][rnd(3)];
      if (k === 3) return text();
      if (k === 4) return Array.from({ length: rnd(4) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: rnd(4) }, () => [text(), value(depth + 1)]));
    };
    for (let i = 0; i < 300; i++) {
      const body: Record<string, unknown> = {};
      const keys = 1 + rnd(5);
      const at = rnd(keys);
      for (let k = 0; k < keys; k++)
        body[k === at ? "model" : `k${k}${text()}`] = k === at ? text() : value(0);
      const spacing = ["", " ", "\n  "][rnd(3)]!;
      const sent = JSON.stringify(body, null, spacing || undefined);
      const target = `target-${text()}`;
      expect(JSON.parse(dec.decode(renamed(sent, target).bytes))).toEqual({ ...body, model: target });
    }
  });
});
