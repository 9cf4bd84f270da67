import { afterEach, describe, expect, test } from "bun:test";
import type { Simulator } from "../../src/simulator/index.ts";
import { chat, fastSim, holdingSim, say, waitFor } from "./helpers.ts";

let sim: Simulator;
afterEach(() => sim?.close());

const prompt = say("k".repeat(200)); // 53 tokens with the role -> 4 blocks

describe("cancellation", () => {
  test("aborting a running request frees its slot and blocks and starts the next", async () => {
    sim = holdingSim({ maxNumSeqs: 1 });
    const ctl = new AbortController();
    const first = chat(sim, { messages: prompt, max_tokens: 1 }, { signal: ctl.signal });
    void chat(sim, { messages: say("next"), max_tokens: 1 });
    await waitFor(() => sim.stats().running + sim.stats().waiting === 2);
    expect(sim.stats()).toMatchObject({ running: 1, waiting: 1, kvBlocksInUse: 4 });
    ctl.abort();
    await waitFor(() => sim.stats().aborted === 1);
    expect(sim.stats()).toMatchObject({ running: 1, waiting: 0, kvBlocksInUse: 1 });
    await first.catch(() => undefined);
  });

  test("aborting a waiting request removes it from the queue", async () => {
    sim = holdingSim({ maxNumSeqs: 1 });
    const ctl = new AbortController();
    void chat(sim, { messages: prompt, max_tokens: 1 });
    void chat(sim, { messages: prompt, max_tokens: 1 }, { signal: ctl.signal });
    await waitFor(() => sim.stats().waiting === 1);
    ctl.abort();
    await waitFor(() => sim.stats().aborted === 1);
    expect(sim.stats()).toMatchObject({ running: 1, waiting: 0 });
  });

  test("cancelling the SSE stream aborts the request at once", async () => {
    sim = fastSim({ interTokenMs: 1000, timeScale: 0.05 });
    const res = await chat(sim, { messages: prompt, max_tokens: 50, stream: true });
    const reader = res.body!.getReader();
    await reader.read();
    await waitFor(() => sim.stats().running === 1);
    await reader.cancel();
    expect(sim.stats()).toMatchObject({ running: 0, aborted: 1, kvBlocksInUse: 0, completed: 0 });
  });

  test("a request whose signal is already aborted never runs", async () => {
    sim = holdingSim();
    const ctl = new AbortController();
    ctl.abort();
    await chat(sim, { messages: prompt }, { signal: ctl.signal }).catch(() => undefined);
    expect(sim.stats()).toMatchObject({ running: 0, waiting: 0 });
  });

  test("close() aborts everything: JSON gets 503, streams error", async () => {
    sim = holdingSim({ maxNumSeqs: 1 });
    const json = chat(sim, { messages: prompt, max_tokens: 1 });
    const stream = await chat(sim, { messages: prompt, max_tokens: 1, stream: true });
    await waitFor(() => sim.stats().running + sim.stats().waiting === 2);
    sim.close();
    expect((await json).status).toBe(503);
    await expect(stream.text()).rejects.toThrow();
    expect(sim.stats()).toMatchObject({ running: 0, waiting: 0, aborted: 2, kvBlocksInUse: 0 });
  });
});
