/**
 * The pod's head from a PodHead (src/proxy/pod-head.ts) on the Bun wire client: the bytes a pod
 * reads are the ones the Headers forward.ts built before gave; a call the wire client hands to
 * Bun's fetch gets a Headers; forward.ts makes a PodHead only for a fetch that offers POD_HEAD,
 * and a retry on another endpoint sends the same head.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/load.ts";
import type { FetchFn } from "../../src/deps.ts";
import { createGateway } from "../../src/gateway.ts";
import { createLogger } from "../../src/log.ts";
import { isPodHead, POD_HEAD, type PodHead, podHead, podHeaders } from "../../src/proxy/pod-head.ts";
import { bunUpstreamFetch, wireFetch } from "../../src/runtime/bun-wire.ts";
import { headPod } from "../helpers/head-pod.ts";

const ANSWER = JSON.stringify({
  id: "c",
  object: "chat.completion",
  model: "m",
  choices: [{ index: 0, message: { role: "assistant", content: "Hi" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
});

/** A raw TCP pod: records each request's head (as text) and answers one JSON completion. */
const pod = headPod(
  `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${ANSWER.length}\r\n\r\n${ANSWER}`,
);
const { heads, origin } = pod;
afterAll(() => pod.stop());

const ID = "0191b2c3-d4e5-7f00-8a9b-0123456789ab";
const client = new Headers({
  host: "gw",
  accept: "*/*",
  "user-agent": "t/1",
  "content-type": "application/json",
  authorization: "Bearer client",
  "x-gateway-destination-endpoint": "1.2.3.4:5",
  connection: "keep-alive, x-drop",
  "x-drop": "1",
  "x-keep": "2",
});
const opts = { forwardAuthorization: false, credential: { header: "Authorization", value: "Bearer pod" } };
const body = new TextEncoder().encode('{"model":"m"}');

describe("the wire client and PodHead", () => {
  test("a pod reads the same head from a PodHead as from the Headers it stands for", async () => {
    const wire = wireFetch();
    const url = `http://${origin}/v1/chat/completions`;
    heads.length = 0;
    const head = podHead(client, "chat", ID, opts)!;
    await (await wire(url, { method: "POST", headers: head as unknown as Headers, body })).text();
    await (await wire(url, { method: "POST", headers: podHeaders(client, "chat", ID, opts), body })).text();
    wire.close();
    expect(heads.length).toBe(2);
    expect(heads[0]).toBe(heads[1]!);
    expect(heads[0]).toBe(
      "POST /v1/chat/completions HTTP/1.1\r\naccept: */*\r\naccept-encoding: identity\r\n" +
        "authorization: Bearer pod\r\ncontent-type: application/json\r\nuser-agent: t/1\r\nx-keep: 2\r\n" +
        `x-request-id: ${ID}\r\nhost: ${origin}\r\ncontent-length: ${body.byteLength}\r\n\r\n`,
    );
  });

  test("a call the wire client does not take goes to the fallback with a Headers", async () => {
    let given: unknown;
    const wire = wireFetch({
      fallback: async (_url, init) => {
        given = init?.headers;
        return new Response("ok");
      },
    });
    const head = podHead(client, "chat", ID, opts)!;
    // A path fetch would have to encode: Bun's fetch's to send.
    await wire(`http://${origin}/a b`, { method: "POST", headers: head as unknown as Headers, body });
    expect(given).toBeInstanceOf(Headers);
    expect([...(given as Headers)]).toEqual([...podHeaders(client, "chat", ID, opts)]);
    wire.close();
  });

  test("the wire client and the Bun entry's fetch offer POD_HEAD", () => {
    const wire = wireFetch();
    expect((wire as unknown as Record<symbol, unknown>)[POD_HEAD]).toBe(true);
    wire.close();
    expect((bunUpstreamFetch({}) as unknown as Record<symbol, unknown>)[POD_HEAD]).toBe(true);
    expect(bunUpstreamFetch({ GATEWAY_UPSTREAM_CLIENT: "fetch" })).toBeUndefined();
  });
});

function gateway(addresses: string[], fetch: FetchFn) {
  const yaml = [
    "apiVersion: gateway.inference.dev/v1alpha1",
    "kind: GatewayConfig",
    "upstream:",
    "  credential: { header: x-api-key, value: pod-key }",
    "endpoints:",
    ...addresses.map((a, i) => `  - { name: pod-${i}, address: "${a}", models: [m] }`),
  ].join("\n");
  return createGateway({
    config: parseConfig(yaml, "pod-head.yaml"),
    logger: createLogger("error", () => {}),
    fetch,
  });
}

function chat(): Request {
  return new Request("http://gw/v1/chat/completions", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-request-id": "rid-1",
      "x-api-key": "client",
      accept: "*/*",
    },
    body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "Hello" }] }),
  });
}

describe("forward and PodHead", () => {
  const WANT =
    "accept: */*\r\naccept-encoding: identity\r\ncontent-type: application/json\r\n" +
    "x-api-key: pod-key\r\nx-request-id: rid-1\r\n";

  test("a fetch that offers POD_HEAD gets a PodHead; any other a Headers with the same entries", async () => {
    const got: unknown[] = [];
    const seam = async (_url: string, init?: RequestInit) => {
      got.push(init?.headers);
      return new Response(ANSWER, { headers: { "content-type": "application/json" } });
    };
    const offering = Object.assign(async (url: string, init?: RequestInit) => seam(url, init), {
      [POD_HEAD]: true,
    });
    expect((await gateway(["127.0.0.1:1"], offering).fetch(chat())).status).toBe(200);
    expect((await gateway(["127.0.0.1:1"], seam).fetch(chat())).status).toBe(200);
    expect(isPodHead(got[0])).toBe(true);
    expect((got[0] as PodHead).lines).toBe(WANT);
    expect(got[1]).toBeInstanceOf(Headers);
    let lines = "";
    (got[1] as Headers).forEach((v, n) => {
      lines += `${n}: ${v}\r\n`;
    });
    expect(lines).toBe(WANT);
  });

  test("over the wire client: the pod gets the head; a retry on another endpoint sends the same", async () => {
    // Two pods that answer 503 (a retryOn status): one request is sent to both, one after the other.
    const busy = [0, 1].map(() => headPod("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n"));
    const fetch = bunUpstreamFetch({})!;
    const res = await gateway(
      busy.map((b) => b.origin),
      fetch,
    ).fetch(chat());
    expect(res.status).toBe(503);
    await res.text();
    for (const b of busy) b.stop();
    for (const b of busy) {
      expect(b.heads.length).toBe(1);
      const lines = b.heads[0]!.split("\r\n");
      // The gateway's lines, then host and content-length as the wire client adds them.
      expect(`${lines.slice(1, 6).join("\r\n")}\r\n`).toBe(WANT);
      expect(lines[6]).toBe(`host: ${b.origin}`);
    }
    expect(busy[0]!.heads[0]!.replace(busy[0]!.origin, "")).toBe(
      busy[1]!.heads[0]!.replace(busy[1]!.origin, ""),
    );
  });
});
