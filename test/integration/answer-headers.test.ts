import { heapStats } from "bun:jsc";
import { describe, expect, test } from "bun:test";
import { createLogger } from "../../src/log.ts";
import { answerHeaders } from "../../src/proxy/headers.ts";
import { LightHeaders } from "../../src/runtime/node-headers.ts";
import { COMPLETION_TEXT as COMPLETION, chatRequest, jsonGateway } from "../helpers/json-gateway.ts";

/**
 * Issue 19, seventh pass: the answer's headers are the pod answer's own Headers edited in
 * place (hop-by-hop names deleted, the gateway's three set), not a copy of them; where a
 * fetch's answers refuse edits (an immutable platform Headers), a copy as before, and the
 * refusal is remembered so it is paid once.
 */

/** A Headers that refuses every edit, as a platform fetch's answer does (its guard is immutable). */
class ImmutableHeaders extends Headers {
  refused = 0;
  override delete(_name: string): void {
    this.refused++;
    throw new TypeError("Headers are immutable");
  }
  override set(_name: string, _value: string): void {
    this.refused++;
    throw new TypeError("Headers are immutable");
  }
  override append(_name: string, _value: string): void {
    this.refused++;
    throw new TypeError("Headers are immutable");
  }
}

const POD_HEADERS = {
  "content-type": "application/json",
  "content-length": String(COMPLETION.length),
  connection: "keep-alive, x-hop",
  "keep-alive": "timeout=5",
  "x-hop": "1",
  "x-pod": "kept",
};

/** One pod, whose every call gets `answer`; the pod's address on the answer unless `served` is false. */
const gatewayWith = (answer: () => Response, served = true) =>
  jsonGateway(
    1,
    createLogger("silent", () => {}),
    answer,
    served ? ["endpointServedHeader: true"] : [],
  );

/** The answer's header names and the gateway's values, as the client sees them. */
async function seen(res: Response) {
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ id: "c" });
  return {
    names: [...res.headers.keys()].sort(),
    target: res.headers.get("x-gateway-target-model"),
    served: res.headers.get("x-gateway-destination-endpoint-served"),
    id: res.headers.get("x-request-id"),
  };
}

const EXPECTED_NAMES = [
  "content-type",
  "x-gateway-destination-endpoint-served",
  "x-gateway-target-model",
  "x-pod",
  "x-request-id",
];

describe("the answer's headers", () => {
  test("carry no pod address by default (endpointServedHeader off), as GIE's endpoint picker strips it", async () => {
    const gateway = gatewayWith(() => new Response(COMPLETION, { headers: POD_HEADERS }), false);
    const r = chatRequest();
    r.headers.set("x-request-id", "rid-0");
    const got = await seen(await gateway.fetch(r));
    expect(got).toEqual({
      names: EXPECTED_NAMES.filter((n) => n !== "x-gateway-destination-endpoint-served"),
      target: "m",
      served: null,
      id: "rid-0",
    });
    await gateway.stop?.();
  });

  test("are the pod answer's own Headers, hop-by-hop names deleted and the gateway's set", async () => {
    const pods: Response[] = [];
    const gateway = gatewayWith(() => {
      const r = new Response(COMPLETION, { headers: POD_HEADERS });
      pods.push(r);
      return r;
    });
    const r = chatRequest();
    r.headers.set("x-request-id", "rid-1");
    const got = await seen(await gateway.fetch(r));
    expect(got).toEqual({ names: EXPECTED_NAMES, target: "m", served: "127.0.0.1:1", id: "rid-1" });
    // Edited in place: the pod's Response holds what the client got (no copy was made).
    const pod = pods[0]!.headers;
    expect(pod.get("x-gateway-target-model")).toBe("m");
    expect(pod.get("x-request-id")).toBe("rid-1");
    expect(pod.has("keep-alive")).toBe(false);
    expect(pod.has("x-hop")).toBe(false);
    await gateway.stop?.();
  });

  test("that refuse edits are copied, the same names and values, and the refusal is paid once", async () => {
    const made: ImmutableHeaders[] = [];
    const gateway = gatewayWith(() => {
      const r = new Response(COMPLETION);
      const headers = new ImmutableHeaders(POD_HEADERS);
      made.push(headers);
      Object.defineProperty(r, "headers", { value: headers });
      return r;
    });
    for (let i = 0; i < 3; i++) {
      const r = chatRequest();
      r.headers.set("x-request-id", `rid-${i}`);
      const got = await seen(await gateway.fetch(r));
      expect(got).toEqual({ names: EXPECTED_NAMES, target: "m", served: "127.0.0.1:1", id: `rid-${i}` });
    }
    expect(made.map((h) => h.refused)).toEqual([1, 0, 0]);
    expect(made[0]!.has("keep-alive")).toBe(true); // nothing changed by the refused edit
    await gateway.stop?.();
  });

  test("answerHeaders: in place when editable, a copy after a refusal", () => {
    const editable = { ok: true };
    const h = new Headers(POD_HEADERS);
    expect(answerHeaders(h, editable)).toBe(h);
    expect([...h.keys()].sort()).toEqual(["content-type", "x-pod"]);
    // No hop-by-hop name at all: still probed, so an immutable one is found before any set.
    const frozen = new ImmutableHeaders({ "content-type": "application/json" });
    const copy = answerHeaders(frozen, editable);
    expect(copy).not.toBe(frozen);
    expect(editable.ok).toBe(false);
    expect([...copy.keys()]).toEqual(["content-type"]);
    const later = new Headers(POD_HEADERS);
    expect(answerHeaders(later, editable)).not.toBe(later);
  });

  test("answerHeaders: Node's own Headers is copied as before (its copy is a plain loop, its iteration sorts)", () => {
    const raw = Object.entries(POD_HEADERS).flat();
    const light = LightHeaders.fromRaw(raw) as unknown as Headers;
    const out = answerHeaders(light, { ok: true });
    expect(out).not.toBe(light);
    expect(out).toBeInstanceOf(LightHeaders);
    expect([...out.keys()].sort()).toEqual(["content-type", "x-pod"]);
    expect(light.has("content-length")).toBe(true);
  });

  test("a JSON request builds one Headers fewer for its answer", async () => {
    const gateway = gatewayWith(
      () => new Response(COMPLETION, { headers: { "content-type": "application/json" } }),
    );
    const one = async () => {
      const res = await gateway.fetch(chatRequest());
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    };
    for (let i = 0; i < 300; i++) await one();
    const n = 200;
    Bun.gc(true);
    const before = heapStats().objectTypeCounts["Headers"] ?? 0;
    for (let i = 0; i < n; i++) await one();
    const after = heapStats().objectTypeCounts["Headers"] ?? 0;
    // The client's, forward's copy for the pod, the pod answer's, Bun's own for the Request and
    // the Response (5 with the copy). A collection in between could only lower the count.
    expect((after - before) / n).toBeLessThanOrEqual(4);
    await gateway.stop?.();
  });
});
