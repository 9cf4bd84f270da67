import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createGateway, type Gateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { serveBun } from "../../src/runtime/serve-bun.ts";
import type { RunningServer } from "../../src/runtime/server.ts";
import { testConfig } from "../helpers/config.ts";

/**
 * A large body end to end, through a gateway and a pod on loopback ports: forwarded byte for
 * byte when nothing changes, and with only the model's value changed (spliced into the
 * client's bytes, spacing kept) when a rewrite renames it.
 */
describe("a 30 KiB body end to end", () => {
  const seen: string[] = [];
  let pod: ReturnType<typeof Bun.serve>;
  let gateway: Gateway;
  let server: RunningServer;
  beforeAll(async () => {
    pod = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(r) {
        if (r.method !== "POST") return new Response("ok");
        const text = await r.text();
        seen.push(text);
        return Response.json({ object: "chat.completion", model: JSON.parse(text).model, choices: [] });
      },
    });
    const rewrite = `
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: { name: alias }
spec:
  poolRef: { name: pool }
  rules: [{ matches: [{ model: { type: Exact, value: alias } }], targets: [{ modelRewrite: m }] }]
`;
    const config = testConfig(
      { endpoints: [{ name: "pod", address: `127.0.0.1:${pod.port}`, models: ["m"] }] },
      rewrite,
    );
    gateway = createGateway({ config, logger: silentLogger() });
    gateway.start();
    server = await serveBun({ fetch: gateway.fetch, port: 0, hostname: "127.0.0.1" });
  });
  afterAll(async () => {
    await server.close();
    await gateway.stop();
    pod.stop(true);
  });

  test("unchanged, it reaches the pod byte for byte; renamed, with only the model's value changed", async () => {
    const prompt = "ünïcode and words ".repeat(1800);
    const text = `{ "model": "m",\n  "messages": [{"role":"user","content":${JSON.stringify(prompt)},"model":"x"}], "max_tokens": 1 }`;
    const url = `http://127.0.0.1:${server.port}/v1/chat/completions`;
    const headers = { "content-type": "application/json" };
    const res = await fetch(url, { method: "POST", headers, body: text });
    expect(res.status).toBe(200);
    expect(seen.at(-1)).toBe(text);
    const aliased = text.replace('"model": "m"', '"model": "alias"');
    const res2 = await fetch(url, { method: "POST", headers, body: aliased });
    expect(res2.status).toBe(200);
    expect(seen.at(-1)).toBe(text);
  });
});
