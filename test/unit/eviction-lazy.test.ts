import { afterEach, describe, expect, test } from "bun:test";
import { GatewayError } from "../../src/errors.ts";
import { Eviction } from "../../src/stages/evictable.ts";
import { Exchange } from "../../src/stages/exchange.ts";

const Real = globalThis.AbortController;
afterEach(() => {
  globalThis.AbortController = Real;
});

/** Counts the abort controllers made while `run` runs. */
function controllersMadeBy(run: () => void): number {
  let made = 0;
  globalThis.AbortController = class extends Real {
    constructor() {
      super();
      made++;
    }
  };
  try {
    run();
  } finally {
    globalThis.AbortController = Real;
  }
  return made;
}

const evicted = () => new GatewayError({ status: 429, message: "evicted", code: "evicted" });

describe("Eviction", () => {
  test("a request that cannot be evicted makes no abort controller", () => {
    expect(controllersMadeBy(() => new Eviction())).toBe(0);
  });

  test("an armed request's signal aborts on eviction, with the eviction error", () => {
    const eviction = new Eviction();
    const x = new Exchange(new Request("http://gw/", { method: "POST" }), "id");
    eviction.arm(x);
    expect(x.signal.aborted).toBe(false);
    const err = evicted();
    eviction.evict(err);
    expect(x.signal.aborted).toBe(true);
    expect(x.signal.reason).toBe(err);
  });

  test("an eviction before arm aborts the signal as soon as it is armed", () => {
    const eviction = new Eviction();
    const err = evicted();
    eviction.evict(err);
    const x = new Exchange(new Request("http://gw/", { method: "POST" }), "id");
    eviction.arm(x);
    expect(x.signal.aborted).toBe(true);
    expect(x.signal.reason).toBe(err);
  });
});
