import { describe, expect, test } from "bun:test";
import { answerHeaders, upstreamHeaders } from "../../src/proxy/headers.ts";

/** A Headers that counts its `get` calls. */
class CountingHeaders extends Headers {
  gets = 0;
  override get(name: string): string | null {
    this.gets++;
    return super.get(name);
  }
}

/**
 * Issue 19, tenth pass: `Connection` is read only when the headers hold one (no `get` a
 * request without it), and the names it lists are still dropped, each side.
 */
describe("Connection-listed names", () => {
  test("a request without Connection: no get, the same headers upstream", () => {
    const client = new CountingHeaders({
      "content-type": "application/json",
      "x-custom": "kept",
      te: "trailers",
    });
    const out = upstreamHeaders(client, { forwardAuthorization: false });
    expect(client.gets).toBe(0);
    expect([...out.keys()].sort()).toEqual(["accept-encoding", "content-type", "x-custom"]);
  });

  test("a listed name is dropped upstream; a token that is no header name, or not sent, changes nothing", () => {
    const client = new CountingHeaders({
      connection: "keep-alive, X-Secret-Hop, not a name, x-absent",
      "x-secret-hop": "1",
      "x-custom": "kept",
    });
    const out = upstreamHeaders(client, { forwardAuthorization: false });
    expect(client.gets).toBe(1);
    expect([...out.keys()].sort()).toEqual(["accept-encoding", "x-custom"]);
  });

  test("an answer without Connection: no get, edited in place", () => {
    const pod = new CountingHeaders({
      "content-type": "application/json",
      "content-length": "2",
      "x-pod": "a",
    });
    const editable = { ok: true };
    const out = answerHeaders(pod, editable);
    expect(out).toBe(pod);
    expect(pod.gets).toBe(0);
    expect(editable.ok).toBe(true);
    expect([...out.keys()].sort()).toEqual(["content-type", "x-pod"]);
  });

  test("an answer's listed names are dropped in place; an odd token changes nothing", () => {
    const pod = new CountingHeaders({
      connection: "close, x-hop, not a name",
      "keep-alive": "timeout=5",
      "x-hop": "1",
      "x-pod": "a",
    });
    const editable = { ok: true };
    const out = answerHeaders(pod, editable);
    expect(out).toBe(pod);
    expect(editable.ok).toBe(true);
    expect([...out.keys()].sort()).toEqual(["x-pod"]);
  });
});
