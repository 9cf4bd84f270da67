import { afterEach, describe, expect, test } from "bun:test";
import type { Simulator } from "../../src/simulator/index.ts";
import { chat, fastSim, metrics, post, postOk, say } from "./helpers.ts";

let sim: Simulator;
afterEach(() => sim?.close());

const tokenize = (body: Record<string, unknown>) => postOk(sim, "/tokenize", { model: "m", ...body });

describe("/tokenize and /detokenize", () => {
  test("vLLM's shape; the count is the prompt tokens the pod bills", async () => {
    sim = fastSim({ maxModelLen: 4096 });
    const body = await tokenize({ prompt: "Hello, simulated world!" });
    expect(Object.keys(body).sort()).toEqual(["count", "max_model_len", "tokens"]);
    expect(body.count).toBe(6);
    expect(body.tokens).toHaveLength(6);
    expect(body.max_model_len).toBe(4096);
    const messages = say("how many tokens is this prompt?");
    const counted = await tokenize({ messages });
    const billed = (await (await chat(sim, { messages, max_tokens: 1 })).json()).usage.prompt_tokens;
    expect(counted.count).toBe(billed);
  });

  test("detokenize gives back the text, ASCII or not; token_strs are the pieces", async () => {
    sim = fastSim();
    for (const prompt of ["The quick brown fox.", "naïve café — 日本語 ok", "x"]) {
      const { tokens } = await tokenize({ prompt });
      const res = await post(sim, "/detokenize", { model: "m", tokens });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ prompt });
    }
    const strs = await tokenize({ prompt: "abcdefghij", return_token_strs: true });
    expect(strs.token_strs).toEqual(["abcd", "efgh", "ij"]);
  });

  test("deterministic across pods for ASCII text", async () => {
    sim = fastSim();
    const a = await tokenize({ prompt: "same text on every pod" });
    const other = fastSim();
    try {
      const res = await post(other, "/tokenize", { model: "m", prompt: "same text on every pod" });
      expect((await res.json()).tokens).toEqual(a.tokens);
    } finally {
      other.close();
    }
  });

  test("bad input: 400 naming the field; unknown model 404; neither counts as a request", async () => {
    sim = fastSim();
    expect((await post(sim, "/tokenize", { model: "m" })).status).toBe(400);
    const neg = await post(sim, "/detokenize", { model: "m", tokens: [-1] });
    expect(neg.status).toBe(400);
    expect((await neg.json()).error.param).toBe("tokens");
    const huge = await post(sim, "/detokenize", { model: "m", tokens: [2 ** 40] });
    expect(huge.status).toBe(400);
    expect((await post(sim, "/tokenize", { model: "nope", prompt: "x" })).status).toBe(404);
    const m = await metrics(sim);
    expect(m.get('vllm:prompt_tokens_total{model_name="m"}')).toBe(0);
  });

  test("a pooling pod tokenizes too", async () => {
    sim = fastSim({ model: "e", runner: "pooling" });
    const res = await post(sim, "/tokenize", { model: "e", prompt: "abcd" });
    expect(res.status).toBe(200);
    expect((await res.json()).count).toBe(1);
  });
});
