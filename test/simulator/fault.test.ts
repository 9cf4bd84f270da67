import { afterEach, describe, expect, test } from "bun:test";
import type { Simulator } from "../../src/simulator/index.ts";
import { FakeTime } from "../helpers/fake-time.ts";
import { fakeDurations } from "./fake-run.ts";
import { chat, fastSim, get, parseSse, readUntilBroken, say, waitFor } from "./helpers.ts";

let sim: Simulator;
afterEach(() => sim?.close());

describe("fault injection", () => {
  test("status: inference and /health fail, /metrics and /v1/models keep working", async () => {
    sim = fastSim();
    sim.setFault({ status: 503 });
    const res = await chat(sim, { messages: say("hi"), max_tokens: 1 });
    expect(res.status).toBe(503);
    expect((await res.json()).error.message).toContain("503");
    expect((await get(sim, "/health")).status).toBe(503);
    expect((await get(sim, "/metrics")).status).toBe(200);
    expect((await get(sim, "/v1/models")).status).toBe(200);
    sim.setFault(undefined);
    expect((await chat(sim, { messages: say("hi"), max_tokens: 1 })).status).toBe(200);
  });

  test("delayMs holds the request before it is queued", async () => {
    const time = new FakeTime();
    sim = fastSim({ setTimer: time.setTimer });
    sim.setFault({ delayMs: 80 });
    let answered = false;
    const pending = chat(sim, { messages: say("hi"), max_tokens: 1 }).then((res) => {
      answered = true;
      return res;
    });
    await time.advanceAsync(79);
    expect(sim.stats()).toMatchObject({ running: 0, waiting: 0, completed: 0 });
    expect(answered).toBe(false);
    await time.advanceAsync(1);
    expect(sim.stats().running + sim.stats().waiting + sim.stats().completed).toBe(1);
    await fakeDurations(time, [pending]);
    expect((await pending).status).toBe(200);
    expect(sim.stats()).toMatchObject({ completed: 1 });
  });

  test("close() ends a delayed request with 503", async () => {
    sim = fastSim();
    sim.setFault({ delayMs: 60_000 });
    const pending = chat(sim, { messages: say("hi"), max_tokens: 1 });
    await new Promise((r) => setTimeout(r, 5));
    sim.close();
    expect((await pending).status).toBe(503);
  });

  test("breakStreamAfterTokens errors the stream after N tokens and counts an abort", async () => {
    sim = fastSim();
    sim.setFault({ breakStreamAfterTokens: 3 });
    const res = await chat(sim, { messages: say("hi"), max_tokens: 10, stream: true });
    const frames = parseSse(await readUntilBroken(res));
    expect(frames).toHaveLength(4); // role + 3 tokens, no [DONE]
    expect(sim.stats()).toMatchObject({ aborted: 1, completed: 0, running: 0 });
  });

  test("breakStreamAfterTokens truncates a JSON body", async () => {
    sim = fastSim();
    sim.setFault({ breakStreamAfterTokens: 2 });
    const res = await chat(sim, { messages: say("hi"), max_tokens: 10 });
    expect(res.status).toBe(200);
    await expect(res.json()).rejects.toThrow();
    await waitFor(() => sim.stats().aborted === 1);
  });

  test("rejects a status that is not HTTP", () => {
    sim = fastSim();
    expect(() => sim.setFault({ status: 42 })).toThrow("200..599");
  });
});
