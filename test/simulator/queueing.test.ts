import { afterEach, describe, expect, test } from "bun:test";
import type { Simulator } from "../../src/simulator/index.ts";
import { FakeTime } from "../helpers/fake-time.ts";
import { fakeDurations } from "./fake-run.ts";
import { chat, fastSim, holdingSim, metrics, say, waitFor } from "./helpers.ts";

let sim: Simulator;
afterEach(() => sim?.close());

describe("max-num-seqs", () => {
  test("at most maxNumSeqs run; the rest wait, visible in /metrics", async () => {
    sim = holdingSim({ maxNumSeqs: 2 });
    const pending = Array.from({ length: 5 }, () => chat(sim, { messages: say("hi"), max_tokens: 1 }));
    await waitFor(() => sim.stats().running + sim.stats().waiting === 5);
    expect(sim.stats()).toMatchObject({ running: 2, waiting: 3 });
    const m = await metrics(sim);
    expect(m.get('vllm:num_requests_running{model_name="m"}')).toBe(2);
    expect(m.get('vllm:num_requests_waiting{model_name="m"}')).toBe(3);
    sim.close();
    const statuses = (await Promise.all(pending)).map((r) => r.status);
    expect(statuses).toEqual([503, 503, 503, 503, 503]);
    expect(sim.stats()).toMatchObject({ running: 0, waiting: 0, aborted: 5 });
  });

  test("waiting requests start FIFO as slots free and all complete", async () => {
    sim = fastSim({ maxNumSeqs: 1 });
    const order: number[] = [];
    const pending = [0, 1, 2, 3].map(async (i) => {
      const res = await chat(sim, { messages: say(`request ${i}`), max_tokens: 3 });
      expect(res.status).toBe(200);
      await res.json();
      order.push(i);
    });
    await waitFor(() => sim.stats().running + sim.stats().waiting + sim.stats().completed === 4);
    expect(sim.stats().waiting).toBeGreaterThan(0);
    await Promise.all(pending);
    expect(order).toEqual([0, 1, 2, 3]);
    expect(sim.stats()).toMatchObject({ running: 0, waiting: 0, completed: 4 });
  });

  test("a loaded pod is slower per request (time factor)", async () => {
    // 20 tokens x 200 ms x 0.03 = 120 ms alone; x2 when 5 run together.
    const opts = {
      maxNumSeqs: 5,
      timeFactorMax: 2,
      interTokenMs: 200,
      timeScale: 0.03,
      prefillOverheadMs: 0,
    };
    const time = new FakeTime();
    const answer = (s: Simulator) => chat(s, { messages: say("hi"), max_tokens: 20 }).then((r) => r.json());
    sim = fastSim({ ...opts, clock: time.clock, setTimer: time.setTimer });
    const [alone] = await fakeDurations(time, [answer(sim)]);
    expect(alone).toBeGreaterThanOrEqual(114); // 19 decode steps of 6 ms after the first token
    const loaded = await fakeDurations(
      time,
      Array.from({ length: 5 }, () => answer(sim)),
    );
    expect(Math.min(...loaded)).toBeGreaterThan(alone! * 1.3);
  });
});
