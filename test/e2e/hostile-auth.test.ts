import { afterEach, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { sha256Hex } from "../../src/auth/keys.ts";
import { chat, chatBody, type HostileStack, MODEL, OTHER, raw, startHostile } from "./hostile-kit.ts";

/**
 * Keys, headers and addresses a hostile client controls, on real ports: forged keys,
 * a limited key reaching for another model, credentials and routing hints that must
 * stop at the gateway, and every way to name an address outside the pool.
 */
let stack: HostileStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

async function withKeys() {
  return startHostile({
    settings: {
      // The serving pod's address on each answer (off by default): where a request went is read from it.
      endpointServedHeader: true,
      auth: {
        apiKeys: [
          { name: "limited", sha256: await sha256Hex("sk-limited"), tenant: "limited", models: [MODEL] },
          { name: "router", sha256: await sha256Hex("sk-router"), trustedRouting: true },
        ],
      },
    },
  });
}

const reached = (s: HostileStack) => s.pods.reduce((n, p) => n + p.requests.length, 0);

describe("hostile clients: keys and authorization", () => {
  test("forged keys, in every place a key is read, are 401s and reach no pod", async () => {
    stack = await withKeys();
    const s = stack;
    const forged: Record<string, string>[] = [
      { authorization: "Bearer sk-limitee" },
      { authorization: "Bearer " },
      { authorization: "Basic c2stbGltaXRlZDo=" },
      { authorization: `Bearer ${"a".repeat(8000)}` },
      { "x-api-key": "sk-limited " + "x" },
      { "x-api-key": await sha256Hex("sk-limited") },
      {},
    ];
    for (const headers of forged) expect((await chat(s.url, { headers })).status).toBe(401);
    for (let i = 0; i < 200; i++)
      expect((await chat(s.url, { headers: { authorization: `Bearer sk-guess-${i}` } })).status).toBe(401);
    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: "sk-forged", maxRetries: 0 });
    const err = await client.chat.completions
      .create({ model: MODEL, messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(reached(s)).toBe(0);
  });

  test("a limited key cannot reach another model through the rewrite header (either spelling)", async () => {
    stack = await withKeys();
    const s = stack;
    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: "sk-limited", maxRetries: 0 });
    for (const header of ["x-gateway-model-name-rewrite", "x-llm-d-model-name-rewrite"]) {
      const err = await client.chat.completions
        .create(
          { model: MODEL, messages: [{ role: "user", content: "x" }] },
          { headers: { [header]: OTHER } },
        )
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
      expect((err as InstanceType<typeof OpenAI.PermissionDeniedError>).message).toContain("model served");
    }
    expect(reached(s)).toBe(0);
    const ok = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: "x" }],
    });
    expect(ok.model).toBe(MODEL);
  });
});

describe("hostile clients: what reaches the pod", () => {
  test("no credential and no gateway-control header the client sent reaches a pod", async () => {
    stack = await withKeys();
    const s = stack;
    const control = {
      "x-gateway-model-name-rewrite": MODEL,
      "x-llm-d-model-name-rewrite": MODEL,
      "x-gateway-inference-objective": "critical",
      "x-llm-d-inference-fairness-id": "someone-else",
      "x-gateway-destination-endpoint": "127.0.0.1:1",
      "x-slo-ttft-ms": "100",
      "x-custom": "kept",
    };
    expect((await chat(s.url, { headers: { "x-api-key": "sk-limited", ...control } })).status).toBe(200);
    expect((await chat(s.url, { headers: { authorization: "Bearer sk-limited", ...control } })).status).toBe(
      200,
    );
    const seen = s.pods.flatMap((p) => p.requests);
    expect(seen.length).toBe(2);
    for (const { headers } of seen) {
      const names = [...headers.keys()];
      expect(names.filter((n) => /^(authorization|x-api-key|x-gateway-|x-llm-d-|x-slo-)/.test(n))).toEqual(
        [],
      );
      expect(headers.get("x-custom")).toBe("kept");
    }
  });

  test("no address outside the pool: not by header, absolute-form URL, Host or path", async () => {
    stack = await withKeys();
    const s = stack;
    const pool = new Set(s.pods.map((p) => p.address));
    // A trusted key pinning outside the pool: 400. An untrusted key's pin: ignored.
    const outside = await chat(s.url, {
      headers: { authorization: "Bearer sk-router", "x-gateway-destination-endpoint": "169.254.169.254:80" },
    });
    expect(outside.status).toBe(400);
    expect(outside.body.error?.code).toBe("invalid_destination_endpoint");
    const ignored = await chat(s.url, {
      headers: { authorization: "Bearer sk-limited", "x-llm-d-destination-endpoint": "169.254.169.254:80" },
    });
    expect(ignored.status).toBe(200);
    expect(pool.has(ignored.headers.get("x-gateway-destination-endpoint-served")!)).toBe(true);
    // Absolute-form target, a foreign Host, a path that tries to climb out.
    const body = chatBody();
    const tail = `Authorization: Bearer sk-limited\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
    for (const start of [
      "POST http://169.254.169.254/v1/chat/completions HTTP/1.1\r\nHost: 169.254.169.254\r\n",
      "POST /v1/chat/completions HTTP/1.1\r\nHost: 169.254.169.254:80\r\nX-Forwarded-Host: evil.example\r\n",
      "POST /v1/chat/completions/../../../@169.254.169.254/x HTTP/1.1\r\nHost: gw\r\n",
    ]) {
      const res = await raw(s.port, [start + tail]);
      expect([200, 404]).toContain(res.status);
      if (res.status === 200) {
        const served = /x-gateway-destination-endpoint-served: (\S+)/i.exec(res.head)?.[1];
        expect(pool.has(served!)).toBe(true);
      }
    }
    for (const p of s.pods) for (const r of p.requests) expect(r.path).toBe("/v1/chat/completions");
  });

  test("header injection: CR/LF in a header is refused by the server; odd but legal values pass as data", async () => {
    stack = await startHostile();
    const s = stack;
    const body = chatBody();
    const injected = await raw(s.port, [
      `POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nX-Gateway-Inference-Fairness-Id: a\rX-Api-Key: sneaky\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    ]);
    expect(injected.status === 400 || injected.status === 0).toBe(true);
    // A request id with CR/LF-like or over-long content is replaced, not echoed.
    const res = await chat(s.url, { headers: { "x-request-id": `id-${"x".repeat(500)}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")!.length).toBeLessThan(100);
    expect(s.pods.flatMap((p) => p.requests).every((r) => r.headers.get("x-api-key") === null)).toBe(true);
  });
});
