import { heapStats } from "bun:jsc";
import { expect, test } from "bun:test";
import type { FetchFn } from "../../src/deps.ts";
import { attempt } from "../../src/proxy/attempt.ts";

/**
 * Issue 19, fourteenth pass: a streamed attempt whose pod client offers its chunks (Bun's wire
 * client) hands over its first chunk in one object of one class (HeldFirst), not an object of
 * five closures with their scope and an inner async function, and makes no abort closure it
 * does not add. The tree before made 13 functions and an inner async function an attempt here
 * (these bounds fail it); this one 7 and none.
 */
const CHUNK_SOURCE = Symbol.for("inference-gateway.chunkSource");
const chunk = { done: false as const, value: new TextEncoder().encode("data: {}\n\n") };
const answer = () =>
  ({
    status: 200,
    ok: true,
    headers: new Headers({ "content-type": "text/event-stream" }),
    [CHUNK_SOURCE]: () => ({ read: () => Promise.resolve(chunk), cancel: () => Promise.resolve() }),
  }) as unknown as Response;
const fetch: FetchFn = () => Promise.resolve(answer());

async function one(): Promise<void> {
  const result = await attempt({
    fetch,
    url: "http://pod/v1/chat/completions",
    headers: new Headers(),
    body: new Uint8Array(),
    clientSignal: new AbortController().signal,
    responseTimeoutMs: 30_000,
    firstByteTimeoutMs: 10_000,
  });
  if (result.kind !== "response" || result.body?.ready?.()?.value !== chunk.value)
    throw new Error("no first chunk");
}

test("a streamed attempt's first chunk is held by one object, with no closures of its own", async () => {
  for (let i = 0; i < 2000; i++) await one();
  const n = 300;
  Bun.gc(true);
  const before = heapStats().objectTypeCounts;
  for (let i = 0; i < n; i++) await one();
  const after = heapStats().objectTypeCounts;
  const per = (kind: string) => ((after[kind] ?? 0) - (before[kind] ?? 0)) / n;
  expect(per("Function")).toBeLessThanOrEqual(8);
  expect(per("AsyncFunction")).toBeLessThan(0.5);
});
