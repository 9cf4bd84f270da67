import { heapStats } from "bun:jsc";
import { expect, test } from "bun:test";
import { quoted } from "../../src/errors.ts";
import { truncate } from "../../src/log.ts";
import { RecentRequests } from "../../src/observability/recent.ts";

/** A 1 MiB model name as a request body parse makes it: a string of its own. */
const hugeName = (i: number) =>
  (JSON.parse(JSON.stringify({ m: "q".repeat(1 << 20) + i })) as { m: string }).m;

/** Heap bytes still reachable after `fill` kept what it returned, with 40 huge names cut. */
function retainedBy(fill: (name: string) => unknown): number {
  const kept: unknown[] = [];
  Bun.gc(true);
  const before = heapStats().heapSize;
  for (let i = 0; i < 40; i++) kept.push(fill(hugeName(i)));
  Bun.gc(true);
  Bun.gc(true);
  const grown = heapStats().heapSize - before;
  expect(kept.length).toBe(40);
  return grown;
}

// A cut made with slice() is a view that keeps the whole original alive (JSC substrings,
// V8 sliced strings): 40 cut names would hold 40 MiB. Copies hold a few KiB.
const LIMIT = 8 * 1024 * 1024;

test("the dashboard ring keeps cut model names, not the megabytes they were cut from", () => {
  const ring = new RecentRequests(500);
  const grown = retainedBy((name) => {
    ring.push({ at: 0, model: name, targetModel: name, status: 404, outcome: "error", durationMs: 1 });
    return ring;
  });
  expect(grown).toBeLessThan(LIMIT);
  expect(ring.since(0).items[0]?.model?.length).toBeLessThanOrEqual(257);
});

test("cut log fields and quoted names do not keep their originals alive", () => {
  expect(retainedBy((name) => truncate(name, 2048))).toBeLessThan(LIMIT);
  expect(retainedBy((name) => quoted(name))).toBeLessThan(LIMIT);
  expect(truncate("x".repeat(3000), 2048)).toBe(`${"x".repeat(2048)}…(3000 chars)`);
  expect(quoted("y".repeat(300))).toBe(`'${"y".repeat(256)}…' (300 characters)`);
});
