import { describe, expect, test } from "bun:test";
import { kvCacheUtilizationScorer } from "../../plugins/kv-cache-utilization-scorer.ts";
import { queueScorer } from "../../plugins/queue-scorer.ts";
import { runningRequestsSizeScorer } from "../../plugins/running-requests-size-scorer.ts";
import { InFlight } from "../../src/endpoints/inflight.ts";
import type { MetricsSnapshot } from "../../src/endpoints/types.ts";
import { asArray, context, endpoint } from "./helpers.ts";

type Row = { case: string; metrics: Partial<MetricsSnapshot>[]; inflight?: number[]; want: number[] };

function run(scorer: ReturnType<typeof queueScorer>, row: Row): number[] {
  const eps = row.metrics.map((m, i) => endpoint(`e${i}`, m));
  const inflight = new InFlight();
  (row.inflight ?? []).forEach((n, i) => {
    for (let k = 0; k < n; k++) inflight.acquire(`e${i}`);
  });
  return asArray(scorer.score(context({ inflight }), eps), eps) as number[];
}

describe("queue-scorer: (max-q)/(max-q - min-q)", () => {
  test.each<Row>([
    { case: "all equal -> 1", metrics: [{ waitingQueueSize: 3 }, { waitingQueueSize: 3 }], want: [1, 1] },
    { case: "single endpoint -> 1", metrics: [{ waitingQueueSize: 7 }], want: [1] },
    {
      case: "linear between min and max",
      metrics: [{ waitingQueueSize: 0 }, { waitingQueueSize: 5 }, { waitingQueueSize: 10 }],
      want: [1, 0.5, 0],
    },
    {
      case: "running requests do not count",
      metrics: [{ runningRequests: 50 }, { waitingQueueSize: 1 }],
      want: [1, 0],
    },
    {
      case: "assumed load: requests sent since the scrape count as queued",
      metrics: [{ updatedAt: 0 }, { updatedAt: 0, waitingQueueSize: 2 }],
      inflight: [4, 0],
      want: [0, 1],
    },
  ])("$case", (row) => {
    expect(run(queueScorer(), row)).toEqual(row.want);
  });
});

describe("running-requests-size-scorer: fewer running = higher", () => {
  test.each<Row>([
    { case: "all equal -> 1", metrics: [{ runningRequests: 2 }, { runningRequests: 2 }], want: [1, 1] },
    {
      case: "normalized like the queue scorer",
      metrics: [{ runningRequests: 4 }, { runningRequests: 8 }, { runningRequests: 12 }],
      want: [1, 0.5, 0],
    },
    {
      case: "waiting does not count",
      metrics: [{ waitingQueueSize: 9 }, { runningRequests: 1 }],
      want: [1, 0],
    },
    {
      case: "assumed load counts as running",
      metrics: [
        { updatedAt: 0, runningRequests: 1 },
        { updatedAt: 0, runningRequests: 2 },
      ],
      inflight: [3, 0],
      want: [0, 1],
    },
  ])("$case", (row) => {
    expect(run(runningRequestsSizeScorer(), row)).toEqual(row.want);
  });
});

describe("kv-cache-utilization-scorer: 1 - kvUsage", () => {
  test.each<Row>([
    { case: "empty cache", metrics: [{ kvCacheUsage: 0 }], want: [1] },
    { case: "full cache", metrics: [{ kvCacheUsage: 1 }], want: [0] },
    { case: "per endpoint", metrics: [{ kvCacheUsage: 0.25 }, { kvCacheUsage: 0.9 }], want: [0.75, 1 - 0.9] },
  ])("$case", (row) => {
    expect(run(kvCacheUtilizationScorer(), row)).toEqual(row.want);
  });
});
