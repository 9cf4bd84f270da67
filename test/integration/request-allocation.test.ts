import { heapStats } from "bun:jsc";
import { expect, test } from "bun:test";
import { createLogger } from "../../src/log.ts";
import { bufferedResponse } from "../../src/runtime/node-upstream-response.ts";
import { COMPLETION_TEXT, chatRequest, jsonGateway } from "../helpers/json-gateway.ts";

/**
 * Issue 19: what a JSON request allocates is what Bun's collector pays for, once per ~1,000
 * requests, a few ms each time. Fifth pass: the scheduler's context and hooks, the scope's
 * holds and the JSON parse without closures or an async frame of their own (51 functions
 * and 66 closure scopes a request became 29 and 52). Sixth pass: with flow control off,
 * admission answers in the same turn (no async frame or promise of the admit stage or the
 * admitter), and the request's holds (pool count, running gauge, the answer's accounting),
 * its shutdown watch and its log line make no closure per request: 30 functions, 54 closure
 * scopes, 16 promises and 9 async frames became 23, 45, 14 and 8 (four endpoints, the
 * default profile, metrics and the log line on). The bounds leave one of each for new work;
 * a closure per request again fails them. Ninth pass: the whole request in one async function
 * (parse's read awaited in it, the pool's stages inline), attempt's shutdown watch by its
 * controller, no options, copies or refusal objects per request in forward and schedule: 23,
 * 45, 14 and 8 became 17, 34, 12 and 6 (objects 54.6 -> 48.9). Tenth pass: the body read's and
 * the attempt's timers kept as the runtime's own (no cancel closure each, src/clock.ts `arm`),
 * parse without a result object, no `Connection` get when there is none: 15 functions, 31
 * closure scopes, objects 47.9. Twelfth pass: one closure an attempt for both its watches (14
 * functions, 29 scopes); with the answer shape the gateway's pod clients hand over, a JSON answer
 * is taken at once (no readWhole frame, bytes() promise or await; respond returns the Response):
 * 12 functions, 27 scopes, 9 promises and 4 async frames, where the tree before made 15, 30, 12, 6.
 * Fourteenth pass: the body read's resolving functions in its own scope (no executor scope) and
 * the request scope writing its line itself (no ScopeEnd held first): on that answer shape 28
 * closure scopes and 44.9 objects became 26 and 43.9.
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

test("a JSON request makes no closure for its holds, shutdown watch or log line, and no promise for admission", async () => {
  const per = await census();
  expect(per("Function")).toBeLessThanOrEqual(16);
  expect(per("JSLexicalEnvironment")).toBeLessThanOrEqual(32);
  expect(per("Promise")).toBeLessThanOrEqual(13);
  expect(per("AsyncFunctionGenerator")).toBeLessThanOrEqual(7);
  expect(per("Object")).toBeLessThanOrEqual(49);
});

const ANSWER = new TextEncoder().encode(COMPLETION_TEXT);

test("an answer the pod client read whole costs no promise or async frame to take, and the body read and scope end no scope or object of their own", async () => {
  // The shape both pod clients hand over (Bun's wire client, Node's dispatcher).
  const per = await census(() =>
    bufferedResponse(
      ANSWER.slice() as Uint8Array<ArrayBuffer>,
      200,
      new Headers({ "content-type": "application/json" }),
      [],
    ),
  );
  expect(per("Function")).toBeLessThanOrEqual(13);
  expect(per("JSLexicalEnvironment")).toBeLessThanOrEqual(26);
  expect(per("Promise")).toBeLessThanOrEqual(10);
  expect(per("AsyncFunctionGenerator")).toBeLessThanOrEqual(4);
  expect(per("Object")).toBeLessThanOrEqual(44.5);
});
