import { describe, expect, test } from "bun:test";
import { createGateway } from "../../src/gateway.ts";
import { createLogger } from "../../src/log.ts";
import { SseAccounting } from "../../src/proxy/accounting.ts";
import { tappedWhole } from "../../src/proxy/relay.ts";
import { ChunkQueue } from "../../src/runtime/node-chunks.ts";
import { streamedResponse } from "../../src/runtime/node-upstream-response.ts";
import { testConfig } from "../helpers/config.ts";
import { chatRequest } from "../helpers/json-gateway.ts";
import { chatStream, USAGE } from "../helpers/sse-frames.ts";

/**
 * A stream that came whole is the pod client's own copy (ChunkSource.whole): the usage frame the
 * gateway asked for is cut out of it in place, with no new array (issue 19, sixteenth pass).
 */

const enc = new TextEncoder();
const dec = new TextDecoder();
const STREAM = chatStream(["hi", "hi"], { usage: USAGE });
const ANSWER = chatStream(["hi", "hi"]);

describe("tappedWhole in place", () => {
  test("passes `inPlace` to the tap: the answer a view of the input, the input edited", () => {
    const own = enc.encode(STREAM);
    const tap = new SseAccounting({ kind: "chat", clock: { now: () => 1 }, dropUsageEvent: true });
    const out = tappedWhole(own, tap, true);
    expect(dec.decode(out)).toBe(ANSWER);
    expect(out.buffer).toBe(own.buffer);
    expect(dec.decode(own.subarray(0, out.length))).toBe(ANSWER);
    const kept = enc.encode(STREAM);
    const tap2 = new SseAccounting({ kind: "chat", clock: { now: () => 1 }, dropUsageEvent: true });
    const copy = tappedWhole(kept, tap2);
    expect(dec.decode(copy)).toBe(ANSWER);
    expect(dec.decode(kept)).toBe(STREAM); // not in place: the input untouched
    expect(tap.result).toEqual(tap2.result);
  });
});

describe("respond: a whole stream from the pod client is cut in place", () => {
  test("the client gets the stream without the usage frame, cut in the pod client's buffer", async () => {
    const given: Uint8Array[] = [];
    const gateway = createGateway({
      config: testConfig({ endpoints: [{ name: "pod", address: "127.0.0.1:1", models: ["m"] }] }),
      logger: createLogger("silent", () => {}),
      directStreams: true,
      fetch: (async () => {
        // As the wire client: the answer queued whole and ended before the call settles.
        const queue = new ChunkQueue(
          () => {},
          () => {},
          65536,
          true,
        );
        const own = enc.encode(STREAM);
        given.push(own);
        queue.push(own);
        queue.end();
        return streamedResponse(queue, 200, new Headers({ "content-type": "text/event-stream" }), []);
      }) as never,
    });
    for (let i = 0; i < 2; i++) {
      const res = await gateway.fetch(chatRequest("m", true));
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(ANSWER);
    }
    expect(given.length).toBe(2);
    // The [DONE] after the usage frame was moved down over it in the pod client's own bytes.
    for (const own of given) expect(dec.decode(own.subarray(0, ANSWER.length))).toBe(ANSWER);
    await gateway.stop();
  });
});
