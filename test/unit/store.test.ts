import { describe, expect, test } from "bun:test";
import { InFlight } from "../../src/endpoints/inflight.ts";
import { EndpointStore } from "../../src/endpoints/store.ts";
import { RequestScope } from "../../src/scope.ts";

const ep = (name: string, models: string[] = []) => ({
  name,
  address: `127.0.0.1:${8000 + name.length}`,
  labels: {},
  engine: "vllm",
  models: new Set(models),
});

describe("endpoint store", () => {
  test("indexes endpoints by model; endpoints with unknown models serve any", () => {
    const s = new EndpointStore();
    s.upsert([ep("a", ["m1"]), ep("b", ["m1", "lora"]), ep("c")]);
    expect(s.serving("m1").map((e) => e.name)).toEqual(["a", "b", "c"]);
    expect(s.serving("lora").map((e) => e.name)).toEqual(["b", "c"]);
    expect(s.serving("other").map((e) => e.name)).toEqual(["c"]);
  });

  test("readers keep a stable array; changes give a new one", () => {
    const s = new EndpointStore();
    s.upsert([ep("a", ["m"])]);
    const before = s.list();
    expect(s.list()).toBe(before);
    s.replaceAll([ep("b", ["m"])]);
    expect(before.map((e) => e.name)).toEqual(["a"]);
    expect(s.list().map((e) => e.name)).toEqual(["b"]);
  });

  test("metrics swap whole, without touching indexes", () => {
    const s = new EndpointStore();
    s.upsert([ep("a", ["m"])]);
    const list = s.list();
    const snap = Object.freeze({ waitingQueueSize: 3, runningRequests: 2, kvCacheUsage: 0.5, updatedAt: 1 });
    s.setMetrics("a", snap);
    expect(s.list()).toBe(list);
    expect(s.get("a")!.metrics).toBe(snap);
    s.upsert([ep("a", ["m", "n"])]);
    expect(s.get("a")!.metrics).toBe(snap);
  });

  test("scrape status swaps in place, is seen through the candidate arrays, and survives upserts", () => {
    const s = new EndpointStore();
    s.upsert([ep("a", ["m"])]);
    const serving = s.serving("m");
    const status = Object.freeze({ inFlightSince: 5, lateAt: 1005, failures: 2 });
    s.setScrapeStatus("a", status);
    expect(s.serving("m")).toBe(serving); // no rebuild per scrape
    expect(serving[0]!.scrape).toBe(status);
    s.replaceAll([ep("a", ["m", "n"])]); // a config reload or a pod update
    expect(s.get("a")!.scrape).toBe(status);
    s.setScrapeStatus("gone", status); // an endpoint removed mid-scrape: ignored
    expect(s.get("gone")).toBeUndefined();
  });
});

describe("in-flight counts and request scope", () => {
  test("a slot is released exactly once", () => {
    const f = new InFlight();
    const a = f.acquire("x");
    f.acquire("x");
    a.release();
    a.release();
    expect(f.get("x")).toBe(1);
    expect(f.total()).toBe(1);
  });

  test("scope releases everything once, in reverse order, even if one release throws", () => {
    const order: string[] = [];
    const s = new RequestScope({ now: () => 0 });
    s.hold({ release: (o) => order.push(`a:${o}`) });
    s.hold({
      release: () => {
        order.push("b");
        throw new Error("boom");
      },
    });
    const errors = console.error;
    console.error = () => {};
    s.end("error");
    s.end("success");
    console.error = errors;
    expect(order).toEqual(["b", "a:error"]);
    s.hold({ release: (o) => order.push(`late:${o}`) });
    expect(order.at(-1)).toBe("late:aborted");
  });
});
