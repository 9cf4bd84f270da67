import { afterEach, describe, expect, test } from "bun:test";
import type { Simulator } from "../../src/simulator/index.ts";
import { fastSim, get, metrics, parseEvents, post, postOk } from "./helpers.ts";

let sim: Simulator;
afterEach(() => sim?.close());

// biome-ignore lint/suspicious/noExplicitAny: response bodies
type Body = any;

const respond = (body: Record<string, unknown>): Promise<Body> =>
  postOk(sim, "/v1/responses", { model: "m", ...body });

describe("POST /v1/responses", () => {
  test("the response object: one assistant message, usage in input/output tokens", async () => {
    sim = fastSim({ defaultMaxTokens: 4 });
    const body = await respond({ input: "Say hi", instructions: "Be brief.", temperature: 0.2 });
    expect(body.id).toStartWith("resp_");
    expect(body).toMatchObject({
      object: "response",
      status: "completed",
      model: "m",
      instructions: "Be brief.",
      incomplete_details: null,
      previous_response_id: null,
      store: true,
      temperature: 0.2,
      error: null,
    });
    expect(body.output).toHaveLength(1);
    expect(body.output[0]).toMatchObject({ type: "message", role: "assistant", status: "completed" });
    expect(body.output[0].content).toEqual([
      { type: "output_text", text: "hello world simulated tokens", annotations: [], logprobs: [] },
    ]);
    // "system\nBe brief.\n" + "user\nSay hi\n" = 17 + 12 characters = 8 tokens.
    expect(body.usage).toEqual({
      input_tokens: 8,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 4,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 12,
    });
  });

  test("max_output_tokens: that many tokens, status incomplete", async () => {
    sim = fastSim();
    const body = await respond({
      input: [{ role: "user", content: [{ type: "input_text", text: "x" }] }],
      max_output_tokens: 3,
    });
    expect(body.status).toBe("incomplete");
    expect(body.incomplete_details).toEqual({ reason: "max_output_tokens" });
    expect(body.usage.output_tokens).toBe(3);
  });

  test("streams typed events in order, numbered, ending in response.completed with usage", async () => {
    sim = fastSim();
    const res = await post(sim, "/v1/responses", {
      model: "m",
      input: "hi",
      max_output_tokens: 3,
      stream: true,
    });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const events = parseEvents(await res.text());
    expect(events.map((e) => e.event)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    events.forEach((e, i) => {
      expect(e.data.type).toBe(e.event);
      expect(e.data.sequence_number).toBe(i);
    });
    const deltas = events.filter((e) => e.event === "response.output_text.delta").map((e) => e.data.delta);
    expect(deltas.join("")).toBe("hello world simulated");
    const created = events[0]!.data.response as Body;
    const done = events.at(-1)!.data.response as Body;
    expect(created.status).toBe("in_progress");
    expect(done.id).toBe(created.id);
    expect(done.usage).toMatchObject({ input_tokens: 2, output_tokens: 3 });
    expect(done.output[0].content[0].text).toBe("hello world simulated");
    // A streamed response is stored too.
    expect((await (await get(sim, `/v1/responses/${done.id}`)).json()).usage.output_tokens).toBe(3);
  });

  test("previous_response_id: the earlier turn is context, so the prompt grows and hits the prefix cache", async () => {
    sim = fastSim({ blockSize: 4 });
    const first = await respond({
      input: "The capital of France is a city I want to know about.",
      max_output_tokens: 8,
    });
    const second = await respond({
      input: "And of Spain?",
      previous_response_id: first.id,
      max_output_tokens: 2,
    });
    expect(second.previous_response_id).toBe(first.id);
    const earlier = `user\nThe capital of France is a city I want to know about.\nassistant\n${first.output[0].content[0].text}\n`;
    const expected = Math.ceil((earlier.length + "user\nAnd of Spain?\n".length) / 4);
    expect(second.usage.input_tokens).toBe(expected);
    expect(second.usage.input_tokens_details.cached_tokens).toBeGreaterThan(0);
    const third = await respond({
      input: "And Italy?",
      previous_response_id: second.id,
      max_output_tokens: 1,
    });
    expect(third.usage.input_tokens).toBeGreaterThan(second.usage.input_tokens);
  });

  test("an id the pod does not hold is a 404 in OpenAI's error shape, before any work", async () => {
    sim = fastSim();
    const res = await post(sim, "/v1/responses", {
      model: "m",
      input: "x",
      previous_response_id: "resp_elsewhere",
    });
    expect(res.status).toBe(404);
    expect((await res.json()).error).toEqual({
      message: "Response with id 'resp_elsewhere' not found.",
      type: "invalid_request_error",
      param: "previous_response_id",
      code: null,
    });
    expect((await metrics(sim)).get('vllm:prompt_tokens_total{model_name="m"}')).toBe(0);
  });

  test("GET /v1/responses/{id}: the stored object; store:false keeps nothing; a bad id is a 400", async () => {
    sim = fastSim();
    const kept = await respond({ input: "keep me", max_output_tokens: 1 });
    const got = await get(sim, `/v1/responses/${kept.id}`);
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual(kept);
    const unstored = await respond({ input: "forget me", max_output_tokens: 1, store: false });
    expect(unstored.store).toBe(false);
    expect((await get(sim, `/v1/responses/${unstored.id}`)).status).toBe(404);
    const follow = await post(sim, "/v1/responses", {
      model: "m",
      input: "x",
      previous_response_id: unstored.id,
    });
    expect(follow.status).toBe(404);
    expect((await get(sim, "/v1/responses/chatcmpl-1")).status).toBe(400);
  });

  test("the store is bounded: the least recently used response is dropped", async () => {
    sim = fastSim({ maxStoredResponses: 2 });
    const a = await respond({ input: "a", max_output_tokens: 1 });
    const b = await respond({ input: "b", max_output_tokens: 1 });
    expect((await get(sim, `/v1/responses/${a.id}`)).status).toBe(200); // a is now the most recent
    await respond({ input: "c", max_output_tokens: 1 });
    expect((await get(sim, `/v1/responses/${b.id}`)).status).toBe(404);
    expect((await get(sim, `/v1/responses/${a.id}`)).status).toBe(200);
  });

  test.each([
    ["no input", {}, "input"],
    ["empty input", { input: [] }, "input"],
    ["max_output_tokens 0", { input: "x", max_output_tokens: 0 }, "max_output_tokens"],
    ["store not a boolean", { input: "x", store: "yes" }, "store"],
  ])("%s -> 400 naming the field", async (_name, body, param) => {
    sim = fastSim();
    const res = await post(sim, "/v1/responses", { model: "m", ...body });
    expect(res.status).toBe(400);
    expect((await res.json()).error.param).toBe(param);
  });

  test("counts in the pod's metrics like a chat request", async () => {
    sim = fastSim();
    await respond({ input: "abcdefgh", max_output_tokens: 2 });
    const m = await metrics(sim);
    expect(m.get('vllm:prompt_tokens_total{model_name="m"}')).toBe(4);
    expect(m.get('vllm:generation_tokens_total{model_name="m"}')).toBe(2);
    expect(m.get('vllm:request_success_total{model_name="m",finished_reason="length"}')).toBe(1);
  });
});
