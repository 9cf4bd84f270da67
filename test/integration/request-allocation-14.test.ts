import { heapStats } from "bun:jsc";
import { expect, test } from "bun:test";
import { createLogger } from "../../src/log.ts";
import { bufferedResponse } from "../../src/runtime/node-upstream-response.ts";
import { COMPLETION_TEXT, chatRequest, jsonGateway } from "../helpers/json-gateway.ts";

/**
 * Issue 19, fourteenth pass: the body read's resolving functions in its own scope (no executor
 * scope), the request scope writing its line itself (no ScopeEnd held first). With the answer
 * the pod clients hand over, the tree before made 28 closure scopes and 44.9 objects a request;
 * this one 26 and 43.9 (the bounds fail the tree before on both).
 */
/** Cells a request of each kind, over 200 requests after 500 (a collection in between could only lower them). */
async function census(answer?: () => Response): Promise<(kind: string) => number> {
  let lines = 0;
  const gateway = jsonGateway(
    4,
    createLogger("info", (line) => {
      if (line.includes('"msg":"request"')) lines++;
    }),
    answer,
  );
  const request = () => chatRequest();
  const one = async (r: Request) => {
    const res = await gateway.fetch(r);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  };
  for (let i = 0; i < 500; i++) await one(request());
  const n = 200;
  // The harness's own requests are made before counting.
  const requests = Array.from({ length: n }, request);
  Bun.gc(true);
  const before = heapStats().objectTypeCounts;
  for (const r of requests) await one(r);
  const after = heapStats().objectTypeCounts;
  expect(lines).toBe(500 + n);
  await gateway.stop?.();
  return (kind) => ((after[kind] ?? 0) - (before[kind] ?? 0)) / n;
}

const ANSWER = new TextEncoder().encode(COMPLETION_TEXT);

test("a JSON request's body read and scope end make no scope or object of their own", async () => {
  const per = await census(() =>
    bufferedResponse(
      ANSWER.slice() as Uint8Array<ArrayBuffer>,
      200,
      new Headers({ "content-type": "application/json" }),
      [],
    ),
  );
  expect(per("JSLexicalEnvironment")).toBeLessThanOrEqual(26);
  expect(per("Object")).toBeLessThanOrEqual(44.5);
});
