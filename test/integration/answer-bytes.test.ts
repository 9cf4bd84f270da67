import { describe, expect, test } from "bun:test";
import { createLogger } from "../../src/log.ts";
import { bufferedResponse, WHOLE_BYTES } from "../../src/runtime/node-upstream-response.ts";
import { COMPLETION_TEXT as COMPLETION, chatRequest, jsonGateway } from "../helpers/json-gateway.ts";

/**
 * Issue 19, eleventh pass: a JSON answer is read with `bytes()` where the pod's Response has
 * it (the gateway's pod clients then hand over the bytes they read, no copy), and with
 * `arrayBuffer()` where it has not; the client gets the same bytes either way. Twelfth pass:
 * the pod clients' answers hand a body read whole over at once (WHOLE_BYTES), with no promise.
 */

/** One pod, whose every call gets `answer`. */
const gatewayWith = (answer: () => Response) =>
  jsonGateway(
    1,
    createLogger("silent", () => {}),
    answer,
  );

/**
 * The pod client's answer: the body a view after the head, in the buffer the socket read.
 * `offers`: what it offers of its body beside `arrayBuffer()` (as a platform Response offers
 * `bytes()` and no WHOLE_BYTES).
 */
function podAnswer(offers: "whole" | "bytes" | "neither"): { res: Response; reads: string[] } {
  const head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n";
  const read = new TextEncoder().encode(head + COMPLETION) as Uint8Array<ArrayBuffer>;
  const res = bufferedResponse(
    read.subarray(head.length),
    200,
    new Headers({ "content-type": "application/json" }),
  );
  const reads: string[] = [];
  const offered = res as unknown as Record<PropertyKey, () => unknown>;
  for (const [name, key, kept] of [
    ["whole", WHOLE_BYTES, offers === "whole"],
    ["bytes", "bytes", offers !== "neither"],
    ["arrayBuffer", "arrayBuffer", true],
  ] as const) {
    const own = offered[key]!.bind(res);
    Object.defineProperty(res, key, {
      value: kept
        ? () => {
            reads.push(name);
            return own();
          }
        : undefined,
    });
  }
  return { res, reads };
}

describe("a JSON answer's bytes", () => {
  test("are taken at once from the pod client's answer (WHOLE_BYTES) and reach the client as the pod sent them", async () => {
    const made: string[][] = [];
    const gateway = gatewayWith(() => {
      const { res, reads } = podAnswer("whole");
      made.push(reads);
      return res;
    });
    const res = await gateway.fetch(chatRequest());
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(COMPLETION);
    expect(made).toEqual([["whole"]]);
    await gateway.stop?.();
  });

  test("are read with bytes() when the answer has it but no WHOLE_BYTES, the same bytes out", async () => {
    const made: string[][] = [];
    const gateway = gatewayWith(() => {
      const { res, reads } = podAnswer("bytes");
      made.push(reads);
      return res;
    });
    const res = await gateway.fetch(chatRequest());
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(COMPLETION);
    expect(made).toEqual([["bytes"]]);
    await gateway.stop?.();
  });

  test("are read with arrayBuffer() from an answer without bytes(), the same bytes out", async () => {
    const made: string[][] = [];
    const gateway = gatewayWith(() => {
      const { res, reads } = podAnswer("neither");
      made.push(reads);
      return res;
    });
    const res = await gateway.fetch(chatRequest());
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(COMPLETION);
    expect(made).toEqual([["arrayBuffer"]]);
    await gateway.stop?.();
  });
});
