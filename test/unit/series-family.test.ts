import { expect, test } from "bun:test";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { seededRandom } from "../../src/clock.ts";
import { errorCode } from "../../src/metrics/error-code.ts";
import { createGatewayMetrics } from "../../src/metrics/gateway-metrics.ts";
import { CounterFamily, GaugeFamily, HistogramFamily } from "../../src/metrics/series-family.ts";

/**
 * The hot-path families render exactly what prom-client renders for the same
 * observations (names, label order with `le` first, cumulative buckets, sums, counts),
 * so swapping them in changes nothing a scraper sees.
 */
test("series families render byte for byte as prom-client's counter, gauge and histogram", async () => {
  const ours = new Registry();
  const theirs = new Registry();
  const names = ["model_name", "priority"];
  const buckets = [0.001, 0.01, 0.1, 1, 10];
  const h = new HistogramFamily("h_seconds", "help h", names, buckets, ours);
  const c = new CounterFamily("c_total", "help c", names, ours);
  const g = new GaugeFamily("g", "help g", names, ours);
  const e = new HistogramFamily("e_seconds", "help e", [], buckets, ours);
  const ph = new Histogram({
    name: "h_seconds",
    help: "help h",
    labelNames: names,
    buckets,
    registers: [theirs],
  });
  const pc = new Counter({ name: "c_total", help: "help c", labelNames: names, registers: [theirs] });
  const pg = new Gauge({ name: "g", help: "help g", labelNames: names, registers: [theirs] });
  new Histogram({ name: "e_seconds", help: "help e", buckets, registers: [theirs] });
  e.labels({});
  const random = seededRandom(7);
  for (let i = 0; i < 500; i++) {
    const labels = { model_name: `m${Math.floor(random() * 3)}`, priority: String(Math.floor(random() * 2)) };
    const v = 10 ** (random() * 5 - 4); // 0.0001 .. 10, bounds included by chance
    h.labels(labels).observe(v);
    ph.observe(labels, v);
    c.labels(labels).inc();
    pc.inc(labels);
    if (random() < 0.5) {
      g.labels(labels).inc();
      pg.inc(labels);
    } else {
      g.labels(labels).dec();
      pg.dec(labels);
    }
  }
  h.labels({ model_name: "edge", priority: "0" }).observe(0.01);
  ph.observe({ model_name: "edge", priority: "0" }, 0.01);
  expect(await ours.metrics()).toBe(await theirs.metrics());
});

test("llm-d's request series stop multiplying past the cap: a new set reports its fairness id as `other`", async () => {
  const m = createGatewayMetrics(100, undefined, 3);
  m.labels.accept("m", "m");
  for (const f of ["a", "b", "c", "d", "e"]) m.series("m", "m", f, 0).counted();
  const text = await m.registry.metrics();
  const flows = [...text.matchAll(/^llm_d_epp_request_total\{.*fairness_id="(\w+)".*\} (\d+)$/gm)].map(
    ([, f, n]) => `${f}=${n}`,
  );
  expect(flows).toEqual(["a=1", "b=1", "c=1", "other=2"]);
  expect(text).toContain(
    'inference_objective_request_total{model_name="m",target_model_name="m",priority="0"} 5',
  );
});

test("error codes: the pod's status as a number, the gateway's own errors as GIE's canonical codes", () => {
  expect(errorCode(500, true)).toBe("500");
  expect(errorCode(429, true)).toBe("429");
  expect(errorCode(404, false)).toBe("BadRequest");
  expect(errorCode(429, false)).toBe("InferencePoolResourceExhausted");
  expect(errorCode(503, false)).toBe("ServiceUnavailable");
  expect(errorCode(502, false)).toBe("ModelServerError");
  expect(errorCode(500, false)).toBe("Internal");
});

test("label sets that would join to the same string keep their own series", async () => {
  const registry = new Registry();
  const c = new CounterFamily("joined_total", "help", ["a", "b"], registry);
  // Joined with a NUL separator, both read "x\0\0y\0": one series took both counts.
  c.labels({ a: "x\u0000", b: "y" }).inc();
  c.labels({ a: "x", b: "\u0000y" }).inc(2);
  expect(c.labels({ a: "x\u0000", b: "y" }).value).toBe(1);
  expect(c.labels({ a: "x", b: "\u0000y" }).value).toBe(2);
  expect(c.labels({ a: "x", b: "\u0000y" })).toBe(c.labels({ b: "\u0000y", a: "x" }));
  expect((await c.get()).values.map((v) => v.value)).toEqual([1, 2]);
});
