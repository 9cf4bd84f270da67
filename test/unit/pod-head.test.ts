/**
 * PodHead (src/proxy/pod-head.ts): the pod request's head lines written from the client's
 * Headers in one pass must be, byte for byte and in order, what the wire client wrote from the
 * Headers forward.ts built before (bodyRequestHeaders + the credential set): `forEach` lines.
 */
import { describe, expect, test } from "bun:test";
import { connectionListsMore } from "../../src/proxy/headers.ts";
import { type PodHeadOptions, podHead, podHeaders } from "../../src/proxy/pod-head.ts";

function forEachLines(h: Headers): string {
  let out = "";
  h.forEach((value, name) => {
    out += `${name}: ${value}\r\n`;
  });
  return out;
}

function same(client: Headers, kind: string, id: string, opts: PodHeadOptions): string {
  const head = podHead(client, kind, id, opts);
  expect(head).toBeDefined();
  const want = forEachLines(podHeaders(client, kind, id, opts));
  expect(head!.lines).toBe(want);
  // Any other fetch given it gets the same headers.
  expect(forEachLines(head!.toHeaders())).toBe(want);
  expect(forEachLines(new Headers([...head!]))).toBe(want);
  return head!.lines;
}

const ID = "0191b2c3-d4e5-7f00-8a9b-0123456789ab";
const NO_AUTH: PodHeadOptions = { forwardAuthorization: false };

describe("podHead", () => {
  test("a small JSON request: the gateway's headers merged in sorted, unwanted ones dropped", () => {
    const client = new Headers({
      host: "gw:8080",
      "user-agent": "curl/8",
      accept: "*/*",
      "content-type": "application/json; charset=utf-8",
      "content-length": "42",
      authorization: "Bearer client",
      "x-api-key": "k",
      "x-gateway-destination-endpoint": "10.0.0.1:8000",
      "x-llm-d-objective": "o",
      "x-slo-ttft-ms": "100",
      "accept-encoding": "gzip",
      "x-request-id": "client-id",
      zeta: "z",
    });
    expect(same(client, "chat", ID, NO_AUTH)).toBe(
      "accept: */*\r\naccept-encoding: identity\r\ncontent-type: application/json\r\n" +
        `user-agent: curl/8\r\nx-request-id: ${ID}\r\nzeta: z\r\n`,
    );
    // forwardAuthorization keeps the client's credentials.
    expect(same(client, "chat", ID, { forwardAuthorization: true })).toContain(
      "authorization: Bearer client\r\n",
    );
  });

  test("the credential header set after: at its sorted place, replacing the client's or the gateway's", () => {
    const client = new Headers({ accept: "*/*", authorization: "Bearer client", b: "1", "x-z": "2" });
    for (const header of [
      "authorization",
      "Authorization",
      "x-api-key",
      "a-key",
      "zz-key",
      "content-type",
      "x-request-id",
      "b",
    ]) {
      for (const forwardAuthorization of [false, true]) {
        const lines = same(client, "chat", ID, {
          forwardAuthorization,
          credential: { header, value: "pod-key" },
        });
        expect(lines).toContain(`${header.toLowerCase()}: pod-key\r\n`);
      }
    }
    // No value: no credential header.
    expect(
      same(client, "chat", ID, { forwardAuthorization: false, credential: { header: "x-k", value: "" } }),
    ).not.toContain("x-k");
  });

  test("a Connection header's names are dropped, wherever they sort", () => {
    const client = new Headers({
      connection: "keep-alive, A-First, zz-last, x-request-id",
      "a-first": "1",
      "b-kept": "2",
      "keep-alive": "timeout=5",
      "zz-last": "3",
    });
    expect(same(client, "chat", ID, NO_AUTH)).toBe(
      `accept-encoding: identity\r\nb-kept: 2\r\ncontent-type: application/json\r\nx-request-id: ${ID}\r\n`,
    );
    same(new Headers({ connection: "close", accept: "*/*" }), "chat", ID, NO_AUTH);
  });

  test("a Connection header of hop-by-hop names only (keep-alive, as httpx and undici send): the same lines, one pass", () => {
    for (const connection of [
      "keep-alive",
      "Keep-Alive",
      "keep-alive, TE",
      " upgrade ,keep-alive",
      "close",
    ]) {
      const client = new Headers({
        connection,
        accept: "*/*",
        te: "trailers",
        "user-agent": "OpenAI/Python 1.0",
      });
      expect(same(client, "chat", ID, NO_AUTH)).toBe(
        `accept: */*\r\naccept-encoding: identity\r\ncontent-type: application/json\r\nuser-agent: OpenAI/Python 1.0\r\nx-request-id: ${ID}\r\n`,
      );
    }
    expect(connectionListsMore("keep-alive")).toBe(false);
    expect(connectionListsMore("Keep-Alive, TE")).toBe(false);
    expect(connectionListsMore("keep-alive, x-private")).toBe(true);
    expect(connectionListsMore("close")).toBe(true); // not a header name the gateway drops anyway: the second pass, as before
  });

  test("transcriptions keep the client's content type (its multipart boundary)", () => {
    const client = new Headers({ "content-type": "multipart/form-data; boundary=abc" });
    expect(same(client, "transcriptions", ID, NO_AUTH)).toContain(
      "content-type: multipart/form-data; boundary=abc\r\n",
    );
    expect(same(new Headers(), "transcriptions", ID, NO_AUTH)).toContain(
      "content-type: multipart/form-data\r\n",
    );
  });

  test("repeated and combined values come out as the Headers gives them", () => {
    const client = new Headers([
      ["cookie", "a=1"],
      ["cookie", "b=2"],
      ["x-multi", "1"],
      ["x-multi", "2"],
      ["set-cookie", "s=1"],
      ["set-cookie", "t=2"],
    ]);
    same(client, "chat", ID, NO_AUTH);
  });

  test("a value the Headers would trim or refuse makes no PodHead (the caller builds the Headers)", () => {
    const client = new Headers({ accept: "*/*" });
    expect(podHead(client, "chat", " padded", NO_AUTH)).toBeUndefined();
    expect(podHead(client, "chat", "a\tb ", NO_AUTH)).toBeUndefined();
    expect(podHead(client, "chat", "", NO_AUTH)).toBeUndefined();
    expect(podHead(client, "chat", "é", NO_AUTH)).toBeUndefined();
    const cred = (header: string, value: string) => ({
      forwardAuthorization: false,
      credential: { header, value },
    });
    expect(podHead(client, "chat", ID, cred("authorization", "Bearer k "))).toBeUndefined();
    expect(podHead(client, "chat", ID, cred("bad header", "k"))).toBeUndefined();
    // A hop-by-hop or gateway-control name as the credential header: the Headers path, as before.
    expect(podHead(client, "chat", ID, cred("connection", "k"))).toBeUndefined();
    expect(podHead(client, "chat", ID, cred("x-gateway-key", "k"))).toBeUndefined();
    const multipart = new Headers({ "content-type": "multipart/form-data;  boundary=é" });
    expect(podHead(multipart, "transcriptions", ID, NO_AUTH)).toBeUndefined();
  });

  test("random client headers (seeded): the same lines as the Headers forward.ts built", () => {
    let seed = 19;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const NAMES = [
      "accept",
      "accept-encoding",
      "accept-language",
      "authorization",
      "cache-control",
      "connection",
      "content-encoding",
      "content-length",
      "content-type",
      "cookie",
      "host",
      "keep-alive",
      "origin",
      "proxy-authorization",
      "te",
      "trailer",
      "transfer-encoding",
      "upgrade",
      "user-agent",
      "x-api-key",
      "x-gateway-model-name",
      "x-llm-d-fairness-id",
      "x-request-id",
      "x-slo-ttft-ms",
      "x-trace",
      "a",
      "zzz",
      "content-md5",
      "x-requests",
      "x-request-ie",
      "b3",
      "set-cookie",
      "z-after",
    ];
    const VALUES = ["1", "a b", "keep-alive", "x-trace, a", "te, upgrade", "close", "Bearer t", "gzip, br"];
    let made = 0;
    for (let round = 0; round < 2000; round++) {
      const client = new Headers();
      const n = rand(10);
      for (let i = 0; i < n; i++) client.append(NAMES[rand(NAMES.length)]!, VALUES[rand(VALUES.length)]!);
      const credential = rand(3) === 0 ? { header: NAMES[rand(NAMES.length)]!, value: "pod-key" } : undefined;
      const opts = { forwardAuthorization: rand(2) === 0, credential };
      const kind = rand(4) === 0 ? "transcriptions" : "chat";
      const head = podHead(client, kind, ID, opts);
      if (head === undefined) {
        // Only a credential name the Headers path is kept for, or a content type not plain.
        expect(credential !== undefined || kind === "transcriptions").toBe(true);
        continue;
      }
      made++;
      expect(head.lines).toBe(forEachLines(podHeaders(client, kind, ID, opts)));
    }
    expect(made).toBeGreaterThan(1000);
  });
});
