import { describe, expect, test } from "bun:test";
import { createLogger } from "../../src/log.ts";
import { AfterAnswer, type Deferred } from "../../src/observability/after-answer.ts";
import { fakeUpstream } from "../helpers/fake-upstream.ts";
import { chatOn, goldenUpstream, metricsGateway } from "../helpers/metrics-gateway.ts";

/** A `later` that keeps the drains it is asked for, run when the test says. */
function manualLater() {
  const runs: (() => void)[] = [];
  const later = (run: () => void) => {
    runs.push(run);
  };
  const turn = () => {
    for (const run of runs.splice(0)) run();
  };
  return { later, runs, turn };
}

const item = (out: string[], name: string, extra?: () => void): Deferred => ({
  write() {
    out.push(name);
    extra?.();
  },
});

describe("AfterAnswer", () => {
  test("writes at once until deferred", () => {
    const after = new AfterAnswer();
    const out: string[] = [];
    after.add(item(out, "a"));
    expect(out).toEqual(["a"]);
    expect(after.deferred).toBe(false);
  });

  test("deferred: nothing written before the drain, one drain a turn, in the order added", () => {
    const after = new AfterAnswer();
    const { later, runs, turn } = manualLater();
    after.defer(later);
    const out: string[] = [];
    for (const n of ["a", "b", "c"]) after.add(item(out, n));
    expect(out).toEqual([]);
    expect(after.pending).toBe(3);
    expect(runs.length).toBe(1);
    turn();
    expect(out).toEqual(["a", "b", "c"]);
    expect(after.pending).toBe(0);
    after.add(item(out, "d"));
    expect(runs.length).toBe(1);
    turn();
    expect(out).toEqual(["a", "b", "c", "d"]);
  });

  test("a record that throws does not skip the others; one added while draining is written in that drain", () => {
    const after = new AfterAnswer();
    const { later, turn } = manualLater();
    after.defer(later);
    const out: string[] = [];
    const errors: unknown[] = [];
    const log = console.error;
    console.error = (...args: unknown[]) => errors.push(args);
    try {
      after.add(item(out, "a", () => after.add(item(out, "late"))));
      after.add({
        write() {
          throw new Error("boom");
        },
      });
      after.add(item(out, "c", () => after.drain()));
      turn();
    } finally {
      console.error = log;
    }
    expect(out).toEqual(["a", "c", "late"]);
    expect(errors.length).toBe(1);
    expect(after.pending).toBe(0);
  });

  test("drain() writes what waits at once; defer(undefined) drains first, then writes at once", () => {
    const after = new AfterAnswer();
    const { later, turn } = manualLater();
    after.defer(later);
    const out: string[] = [];
    after.add(item(out, "a"));
    after.drain();
    expect(out).toEqual(["a"]);
    turn(); // the turn's drain finds nothing left
    expect(out).toEqual(["a"]);
    after.add(item(out, "b"));
    after.defer(undefined);
    expect(out).toEqual(["a", "b"]);
    after.add(item(out, "c"));
    expect(out).toEqual(["a", "b", "c"]);
  });
});

/**
 * Three requests on a clock that moves 7 ms at each read; with `deferred`, the clock moves
 * 1,000 ms more before the records are written: durations must not see it.
 */
async function run(deferred: boolean) {
  let t = 1000;
  const gw = metricsGateway(goldenUpstream().fetch, () => (t += 7));
  const lines: Record<string, unknown>[] = [];
  gw.deps.logger = createLogger("info", (l) => lines.push(JSON.parse(l)));
  const { later, turn } = manualLater();
  if (deferred) gw.deps.afterAnswer.defer(later);
  const chat = chatOn(gw, 200);
  const seen: number[] = [];
  for (const [model, stream] of [
    ["m", false],
    ["alias", true],
    ["unknown", false],
  ] as const) {
    await (await chat(model, stream)).text();
    seen.push(gw.deps.recent.since(0).items.length, lines.length);
  }
  const before = gw.deps.afterAnswer.pending;
  t += 1000;
  turn();
  const items = gw.deps.recent.since(0).items;
  const text = await (await gw.fetch(new Request("http://gw/metrics"))).text();
  return { seen, before, items, text, lines: lines.map((l) => ({ ...l, time: "" })) };
}

describe("a gateway whose records are deferred", () => {
  test("writes nothing before the drain, then the same /metrics bytes and summaries as one that writes at once", async () => {
    const now = await run(false);
    const later = await run(true);
    expect(now.seen).toEqual([1, 1, 2, 2, 3, 3]);
    expect(now.before).toBe(0);
    expect(later.seen).toEqual([0, 0, 0, 0, 0, 0]);
    // Two records for each answered request (its answer's metrics, its end), one for the unknown model.
    expect(later.before).toBe(5);
    expect(later.items.length).toBe(3);
    // The wall-clock end and the random request id differ between the two gateways; nothing else may.
    const strip = (s: object) => ({ ...s, at: 0, requestId: "" });
    expect(later.items.map(strip)).toEqual(now.items.map(strip));
    expect(later.lines.length).toBe(3);
    expect(later.lines.map(strip)).toEqual(now.lines.map(strip));
    expect(later.text).toBe(now.text);
    expect(later.text).toContain("inference_objective_request_total");
  });

  test("a /metrics scrape writes what waits before it reads; gateway.stop() drains", async () => {
    const gw = metricsGateway(goldenUpstream().fetch, () => 1000);
    const { later } = manualLater();
    gw.deps.afterAnswer.defer(later);
    const chat = chatOn(gw, 200);
    await (await chat("m")).text();
    expect(gw.deps.afterAnswer.pending).toBe(2);
    expect(gw.deps.recent.since(0).items.length).toBe(0);
    // The loop's turn has not come (the manual `later`): the scrape itself writes the records.
    const scraped = await (await gw.fetch(new Request("http://gw/metrics"))).text();
    expect(gw.deps.afterAnswer.pending).toBe(0);
    expect(scraped).toMatch(/inference_objective_request_total\{[^}]*model_name="m"[^}]*\} 1\n/);
    await (await chat("m")).text();
    expect(gw.deps.afterAnswer.pending).toBe(2);
    await gw.stop();
    expect(gw.deps.afterAnswer.pending).toBe(0);
    expect(gw.deps.recent.since(0).items.map((s) => s.status)).toEqual([200, 200]);
  });
});

describe("what routing reads is not deferred", () => {
  test("a Responses API answer's pod is remembered before the drain; its usage is in the line after it", async () => {
    const upstream = fakeUpstream(() =>
      Response.json({
        id: "resp_42",
        object: "response",
        output: [],
        usage: { input_tokens: 7, output_tokens: 2, total_tokens: 9 },
      }),
    );
    const gw = metricsGateway(upstream.fetch, () => 1000);
    const lines: Record<string, unknown>[] = [];
    gw.deps.logger = createLogger("info", (l) => lines.push(JSON.parse(l)));
    const { later, turn } = manualLater();
    gw.deps.afterAnswer.defer(later);
    const res = await gw.fetch(
      new Request("http://gw/v1/responses", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "m", input: "hi" }),
      }),
    );
    expect(res.status).toBe(200);
    await res.text();
    expect(gw.deps.responseHomes.find("resp_42")).toMatchObject({ endpoint: "a", model: "m" });
    expect(lines.filter((l) => l["msg"] === "request")).toEqual([]);
    turn();
    expect(lines.filter((l) => l["msg"] === "request")).toMatchObject([
      { status: 200, promptTokens: 7, completionTokens: 2 },
    ]);
  });
});
