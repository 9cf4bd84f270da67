import { describe, expect, test } from "bun:test";
import { createLogger } from "../../src/log.ts";
import { bufferedResponse } from "../../src/runtime/node-upstream-response.ts";
import { COMPLETION_TEXT as COMPLETION, chatRequest, jsonGateway } from "../helpers/json-gateway.ts";

/**
 * Issue 19, eleventh pass: a JSON answer is read with `bytes()` where the pod's Response has
 * it (the gateway's pod clients then hand over the bytes they read, no copy), and with
 * `arrayBuffer()` where it has not; the client gets the same bytes either way.
 */

/** One pod, whose every call gets `answer`. */
const gatewayWith = (answer: () => Response) =>
  jsonGateway(
    1,
    createLogger("silent", () => {}),
    answer,
  );

/** The pod client's answer: the body a view after the head, in the buffer the socket read. */
function podAnswer(withBytes: boolean): { res: Response; reads: string[] } {
  const head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n";
  const read = new TextEncoder().encode(head + COMPLETION) as Uint8Array<ArrayBuffer>;
  const res = bufferedResponse(
    read.subarray(head.length),
    200,
    new Headers({ "content-type": "application/json" }),
  );
  const reads: string[] = [];
  for (const name of ["bytes", "arrayBuffer"] as const) {
    const own = res[name].bind(res);
    Object.defineProperty(res, name, {
      value:
        name === "bytes" && !withBytes
          ? undefined
          : () => {
              reads.push(name);
              return own();
            },
    });
  }
  return { res, reads };
}

describe("a JSON answer's bytes", () => {
  test("are read with bytes() when the answer has it, and reach the client as the pod sent them", async () => {
    const made: string[][] = [];
    const gateway = gatewayWith(() => {
      const { res, reads } = podAnswer(true);
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
      const { res, reads } = podAnswer(false);
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
