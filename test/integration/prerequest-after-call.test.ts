import { expect, test } from "bun:test";
import { seededRandom } from "../../src/clock.ts";
import { createGateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { testConfig } from "../helpers/config.ts";

/**
 * Issue 19, eighth pass: the pod call goes out before the scheduler's PreRequest hooks (the
 * prefix index's record, in-flight tokens, the no-hit LRU) and the decision's metrics; forward
 * runs them right after the call, in the schedule stage's turn, so they are in place by the
 * next microtask, before any other request can be scheduled, and counted once a request.
 */
const json = () => new Response('{"id":"c"}', { headers: { "content-type": "application/json" } });
const prompt = "A long shared system prompt that the prefix index records. ".repeat(30);

test("the pod call first, the PreRequest hooks right after it in the same turn", async () => {
  let gw: ReturnType<typeof createGateway> | undefined;
  const indexSize = () => gw!.deps.pools.list()[0]!.scheduler.prefixIndex.size;
  const atCall: number[] = [];
  const nextMicrotask: number[] = [];
  const served: string[] = [];
  gw = createGateway({
    config: testConfig({
      endpoints: [
        { name: "a", address: "10.0.0.1:8000", models: ["m"] },
        { name: "b", address: "10.0.0.2:8000", models: ["m"] },
      ],
    }),
    logger: silentLogger(),
    random: seededRandom(3),
    fetch: async (url) => {
      served.push(String(url));
      atCall.push(indexSize());
      queueMicrotask(() => nextMicrotask.push(indexSize()));
      return json();
    },
  });
  const ask = () =>
    gw!.fetch(
      new Request("http://gw/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "m", messages: [{ role: "user", content: prompt }] }),
      }),
    );
  for (let i = 0; i < 3; i++) {
    const res = await ask();
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  }
  expect(atCall[0]).toBe(0); // the first call left before its prompt was recorded
  expect(nextMicrotask[0]).toBeGreaterThan(0); // and it was recorded before anything else ran
  expect(new Set(served).size).toBe(1); // the record steered the same prompt back to its pod

  const metrics = await (await gw.fetch(new Request("http://gw/metrics"))).text();
  const count = (name: string) => Number(new RegExp(`^${name}_count (\\S+)$`, "m").exec(metrics)?.[1]);
  expect(count("inference_extension_scheduler_e2e_duration_seconds")).toBe(3);
  expect(metrics).toMatch(/^inference_extension_scheduler_attempts_total\{[^}]*status="success"[^}]*\} 3$/m);
  expect(metrics).toMatch(
    /^inference_extension_plugin_duration_seconds_count\{extension_point="PreRequest"[^}]*\} 3$/m,
  );
});
