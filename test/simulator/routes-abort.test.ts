import { afterEach, describe, expect, test } from "bun:test";
import type { Simulator } from "../../src/simulator/index.ts";
import { fastSim, holdingSim, parseEvents, post, readUntilBroken, say, waitFor } from "./helpers.ts";

let sim: Simulator;
afterEach(() => sim?.close());

describe("the new routes share the engine's cancellation and faults", () => {
  test("aborting a batch embedding request cancels every input's engine request", async () => {
    sim = holdingSim({ runner: "pooling", maxNumSeqs: 2 });
    const ctl = new AbortController();
    const pending = post(
      sim,
      "/v1/embeddings",
      { model: "m", input: ["a", "b", "c"] },
      { signal: ctl.signal },
    );
    await waitFor(() => sim.stats().running + sim.stats().waiting === 3);
    expect(sim.stats()).toMatchObject({ running: 2, waiting: 1 });
    ctl.abort();
    await pending.catch(() => undefined);
    await waitFor(() => sim.stats().aborted === 3);
    expect(sim.stats()).toMatchObject({ running: 0, waiting: 0, kvBlocksInUse: 0 });
  });

  test("cancelling a responses stream aborts the request at once", async () => {
    sim = fastSim({ interTokenMs: 1000, timeScale: 0.05 });
    const res = await post(sim, "/v1/responses", {
      model: "m",
      input: "hi",
      max_output_tokens: 50,
      stream: true,
    });
    const reader = res.body!.getReader();
    await reader.read();
    await waitFor(() => sim.stats().running === 1);
    await reader.cancel();
    expect(sim.stats()).toMatchObject({ running: 0, aborted: 1, kvBlocksInUse: 0 });
  });

  test("close() answers a waiting messages request 503 in Anthropic's shape", async () => {
    sim = holdingSim({ maxNumSeqs: 1 });
    const pending = post(sim, "/v1/messages", { model: "m", max_tokens: 1, messages: say("x") });
    await waitFor(() => sim.stats().running === 1);
    sim.close();
    const res = await pending;
    expect(res.status).toBe(503);
    expect((await res.json()).error.type).toBe("overloaded_error");
  });

  test("an injected status answers every new route; breakStreamAfterTokens cuts a responses stream", async () => {
    sim = fastSim();
    sim.setFault({ status: 500 });
    for (const [path, body] of [
      ["/v1/responses", { model: "m", input: "x" }],
      ["/tokenize", { model: "m", prompt: "x" }],
      ["/v1/embeddings", { model: "m", input: "x" }],
    ] as const) {
      expect((await post(sim, path, body)).status).toBe(500);
    }
    sim.setFault({ breakStreamAfterTokens: 2 });
    const res = await post(sim, "/v1/responses", {
      model: "m",
      input: "x",
      max_output_tokens: 5,
      stream: true,
    });
    const events = parseEvents(await readUntilBroken(res));
    expect(events.filter((e) => e.event === "response.output_text.delta")).toHaveLength(2);
    expect(events.some((e) => e.event === "response.completed")).toBe(false);
    const json = await post(sim, "/v1/responses", { model: "m", input: "x", max_output_tokens: 5 });
    await expect(json.text()).rejects.toThrow();
  });
});
