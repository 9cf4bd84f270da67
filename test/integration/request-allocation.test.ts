import { heapStats } from "bun:jsc";
import { expect, test } from "bun:test";
import { createLogger } from "../../src/log.ts";
import { chatRequest, jsonGateway } from "../helpers/json-gateway.ts";

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
 * closure scopes, objects 47.9.
 */
test("a JSON request makes no closure for its holds, shutdown watch or log line, and no promise for admission", async () => {
  let lines = 0;
  const gateway = jsonGateway(
    4,
    createLogger("info", (line) => {
      if (line.includes('"msg":"request"')) lines++;
    }),
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
  // A collection in between could only lower the counts: the test cannot fail by it.
  const per = (kind: string) => ((after[kind] ?? 0) - (before[kind] ?? 0)) / n;
  expect(lines).toBe(500 + n);
  expect(per("Function")).toBeLessThanOrEqual(16);
  expect(per("JSLexicalEnvironment")).toBeLessThanOrEqual(32);
  expect(per("Promise")).toBeLessThanOrEqual(13);
  expect(per("AsyncFunctionGenerator")).toBeLessThanOrEqual(7);
  expect(per("Object")).toBeLessThanOrEqual(49);
  await gateway.stop?.();
});
