import { describe, expect, test } from "bun:test";
import { type GatewayError, toErrorResponse } from "../../src/errors.ts";
import { endpoint, harness, type Ticket } from "./helpers.ts";

const priorities = { crit: 5, shed: -1, lower: -2 };

/** A harness whose admitted tickets record their eviction, as the admit stage would end them. */
function setup(config: object = { enableEviction: true }, pods = 1) {
  const endpoints = Array.from({ length: pods }, (_, i) => endpoint(`pod-${i}`));
  const h = harness({ config, priorities, endpoints });
  const evicted: string[] = [];
  const errors = new Map<string, GatewayError>();
  const submit = (tag: string, objective?: string) =>
    h.submit(tag, {
      ...(objective ? { objective } : {}),
      onEvicted: (err) => {
        evicted.push(tag);
        errors.set(tag, err);
      },
    });
  return { h, evicted, errors, submit };
}

describe("enableEviction: in-flight sheddable requests end for waiting higher-priority work", () => {
  test("a waiting critical request evicts the sheddable one in flight; its end lets critical in", async () => {
    const { h, evicted, errors, submit } = setup();
    const shed = submit("shed", "shed");
    await h.flush();
    expect(shed.state).toBe("admitted");
    const crit = submit("crit", "crit");
    await h.flush();
    expect(evicted).toEqual(["shed"]);
    expect(crit.state).toBe("pending"); // the evicted request still holds its place until it ends
    const res = toErrorResponse(errors.get("shed"));
    expect(res.status).toBe(429);
    expect(res.headers.get("x-gateway-request-dropped-reason")).toBe("evicted");
    expect(errors.get("shed")?.message).toContain("flowControl.enableEviction");
    h.done(shed);
    await h.flush();
    expect(crit.state).toBe("admitted");
  });

  test("victims: lowest priority first, then the newest dispatched; one per decision, paced", async () => {
    const { h, evicted, submit } = setup({ enableEviction: true }, 3);
    const old = submit("shed-old", "shed");
    const lower = submit("lower", "lower");
    const young = submit("shed-young", "shed");
    await h.flush();
    submit("crit-1", "crit");
    submit("crit-2", "crit");
    await h.flush();
    expect(evicted).toEqual(["lower"]); // one decision until that request ends
    h.done(lower);
    await h.flush();
    expect(evicted).toEqual(["lower"]); // its place went to crit-1; the grace holds the next
    h.time.advance(10);
    await h.flush();
    expect(evicted).toEqual(["lower", "shed-young"]);
    h.done(young);
    await h.flush();
    expect(h.admitted).toEqual(["shed-old", "lower", "shed-young", "crit-1", "crit-2"]);
    h.time.advance(10);
    await h.flush();
    expect(evicted).toEqual(["lower", "shed-young"]); // nothing waits: old keeps running
    expect(old.state).toBe("admitted");
  });

  test("no eviction when it is off, for non-negative leases, or for waiting work of equal or lower priority", async () => {
    const off = setup({});
    off.submit("shed", "shed");
    await off.h.flush();
    off.submit("crit", "crit");
    await off.h.flush();
    expect(off.evicted).toEqual([]);

    const plain = setup();
    plain.submit("normal");
    await plain.h.flush();
    plain.submit("crit", "crit");
    await plain.h.flush();
    expect(plain.evicted).toEqual([]);

    const same = setup();
    same.submit("shed-1", "shed");
    await same.h.flush();
    same.submit("shed-2", "shed");
    same.submit("lower", "lower");
    await same.h.flush();
    expect(same.evicted).toEqual([]);
  });

  test("a request that ended on its own is no longer a victim", async () => {
    const { h, evicted, submit } = setup();
    const shed: Ticket = submit("shed", "shed");
    await h.flush();
    h.done(shed);
    submit("normal");
    await h.flush();
    submit("crit", "crit");
    await h.flush();
    expect(evicted).toEqual([]);
  });
});
