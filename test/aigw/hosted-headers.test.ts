import { afterAll, beforeAll, expect, test } from "bun:test";
import { POOL } from "../helpers/config.ts";
import { startStack } from "../helpers/stack.ts";
import { hostedDocs, makePki, startProvider, type TestPki } from "./provider.ts";

let pki: TestPki;
let provider: ReturnType<typeof startProvider>;

beforeAll(() => {
  pki = makePki();
  provider = startProvider(pki, { key: "sk-provider", name: "p" });
});
afterAll(() => provider.stop());

const ROUTE = `
apiVersion: aigateway.envoyproxy.io/v1beta1
kind: AIGatewayRoute
metadata: { name: r }
spec:
  rules:
    - matches: [{ headers: [{ type: Exact, name: x-ai-eg-model, value: gpt-4o-mini }] }]
      backendRefs: [{ name: prov }]`;

test("nothing the client authenticates with reaches a hosted provider, whatever header carries it", async () => {
  const stack = await startStack({
    pods: [{ model: "llama" }],
    // Pods may get the client's Authorization; a third-party provider never gets any client credential.
    settings: { upstream: { forwardAuthorization: true } },
    yaml: [POOL, ...hostedDocs({ name: "prov", port: provider.port, ca: pki.ca, key: "sk-provider" }), ROUTE],
  });
  try {
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: "Bearer client-bearer",
        "x-api-key": "client-x-api-key",
        "api-key": "client-azure-key",
        cookie: "session=client-cookie",
        "proxy-authorization": "Basic client-proxy",
        "x-gateway-backend": "prov",
        "x-request-tag": "kept",
      },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(200);
    const seen = provider.seen.at(-1)!;
    expect(seen.authorization).toBe("Bearer sk-provider");
    const sent = JSON.stringify(seen.headers);
    for (const secret of [
      "client-bearer",
      "client-x-api-key",
      "client-azure-key",
      "client-cookie",
      "client-proxy",
    ])
      expect(sent).not.toContain(secret);
    expect(seen.headers["x-gateway-backend"]).toBeUndefined();
    // The provider is addressed as itself, not by the gateway's Host.
    expect(seen.headers["host"]).toBe(`127.0.0.1:${provider.port}`);
    expect(seen.headers["x-request-tag"]).toBe("kept");
  } finally {
    await stack.close();
  }
});
