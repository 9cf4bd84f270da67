import { expect, test } from "bun:test";
import { Registry } from "prom-client";
import { seededRandom } from "../../src/clock.ts";
import { CounterFamily, HistogramFamily, TwinFamily } from "../../src/metrics/series-family.ts";

/**
 * Issue 19, seventh pass: a metric upstream publishes under two names with the same values
 * (GIE's and llm-d's) is recorded once and shown twice. What /metrics shows must be what
 * two families fed the same observations showed: same series, order, labels (a renamed
 * label in its place), buckets, sums and counts, and a series shown only once touched.
 */
test("a twin family renders what a second family fed the same observations renders", async () => {
  const once = new Registry();
  const twice = new Registry();
  const names = ["status", "pod_name"];
  const renamed = ["status", "endpoint_name"];
  const buckets = [0.0001, 0.001, 0.01];
  const h = new HistogramFamily("a_seconds", "help a", names, buckets, once);
  new TwinFamily("b_seconds", "help a", h, once);
  const c = new CounterFamily("a_total", "help c", names, once);
  new TwinFamily("b_total", "help c", c, once, renamed);
  const h1 = new HistogramFamily("a_seconds", "help a", names, buckets, twice);
  const h2 = new HistogramFamily("b_seconds", "help a", names, buckets, twice);
  const c1 = new CounterFamily("a_total", "help c", names, twice);
  const c2 = new CounterFamily("b_total", "help c", renamed, twice);
  const random = seededRandom(7);
  for (let i = 0; i < 500; i++) {
    const status = random() < 0.8 ? "success" : "failure";
    const pod = `pod-${Math.floor(random() * 5)}`;
    const v = random() * 0.02;
    h.labels({ status, pod_name: pod }).observe(v);
    h1.labels({ status, pod_name: pod }).observe(v);
    h2.labels({ status, pod_name: pod }).observe(v);
    c.labels({ status, pod_name: pod }).inc();
    c1.labels({ status, pod_name: pod }).inc();
    c2.labels({ status, endpoint_name: pod }).inc();
  }
  // Resolved but never touched: shown by neither.
  h.labels({ status: "x", pod_name: "idle" });
  h1.labels({ status: "x", pod_name: "idle" });
  h2.labels({ status: "x", pod_name: "idle" });
  const text = await once.metrics();
  expect(text).toBe(await twice.metrics());
  expect(text).toContain('b_total{status="success",endpoint_name="pod-');
  expect(text).not.toContain("idle");
  // The source's reset clears both names.
  once.resetMetrics();
  expect((await once.metrics()).match(/_bucket|_total\{/g)).toBeNull();
});

test("a twin needs as many labels as its source", () => {
  const r = new Registry();
  const c = new CounterFamily("a_total", "help", ["a", "b"], r);
  expect(() => new TwinFamily("b_total", "help", c, r, ["a"])).toThrow(/as many labels/);
});
