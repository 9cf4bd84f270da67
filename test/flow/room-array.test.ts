import { expect, test } from "bun:test";
import type { Endpoint } from "../../src/endpoints/types.ts";
import { Reservations } from "../../src/flow/control/saturation.ts";
import type { EndpointLoad, SaturationDetector } from "../../src/flow/control/types.ts";

/**
 * Flow control's room hands the decision the candidates array itself when every endpoint has
 * room: the pool store's own array, whose columns the scheduler reads (src/endpoints/columns.ts);
 * a copy would send every decision with flow control on through the endpoints' objects.
 */
const endpoint = (name: string, waiting: number): Endpoint => ({
  name,
  address: "127.0.0.1:1",
  labels: {},
  engine: "vllm",
  models: new Set(["m"]),
  metrics: { waitingQueueSize: waiting, runningRequests: 0, kvCacheUsage: 0, updatedAt: 1 },
});

const detector: SaturationDetector = {
  type: "test",
  name: "test",
  score: (e, load: EndpointLoad) => (e.metrics.waitingQueueSize + load.waiting) / 4,
};
const loads = {
  load: (_e: Endpoint, extra = 0) => ({ waiting: extra, running: 0, kvUsage: 0, inflight: 0, assumed: 0 }),
};

test("every endpoint with room: the same array, not a copy", () => {
  const r = new Reservations({ detector, loads });
  const all = Object.freeze([endpoint("a", 0), endpoint("b", 1), endpoint("c", 2)]);
  expect(r.withRoom(all, 1, 0)).toBe(all);
});

test("some without room: the others, in order; none: empty", () => {
  const r = new Reservations({ detector, loads });
  const all = Object.freeze([endpoint("a", 4), endpoint("b", 1), endpoint("c", 5), endpoint("d", 0)]);
  expect(r.withRoom(all, 1, 0).map((e) => e.name)).toEqual(["b", "d"]);
  expect(r.withRoom(all, 0, 0)).toEqual([]);
  // A reservation counts: b's place taken up to the ceiling leaves it without room.
  r.reserve(all[1]!);
  r.reserve(all[1]!);
  r.reserve(all[1]!);
  expect(r.withRoom(all, 1, 0).map((e) => e.name)).toEqual(["d"]);
  expect(r.withRoom([all[3]!, all[1]!], 1, 0).map((e) => e.name)).toEqual(["d"]);
});
