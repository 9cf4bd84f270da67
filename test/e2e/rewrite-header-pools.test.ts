import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Stack, startPoolPerPod } from "../helpers/stack.ts";

/**
 * `x-gateway-model-name-rewrite` names the model to serve when the body's model routes
 * nowhere (GIE's header): the pool is the one serving the header's model. The routing
 * cache must not pin the body's model to the pool an earlier header picked.
 */
const OPT = "facebook/opt-125m";
const QWEN = "Qwen/Qwen3-8B";
let stack: Stack;

beforeAll(async () => {
  stack = await startPoolPerPod(["opt", "qwen"], [{ model: OPT }, { model: QWEN }]);
});

afterAll(() => stack.close());

const chat = (model: string, rewriteTo?: string) =>
  fetch(`${stack.url}/v1/chat/completions`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(rewriteTo ? { "x-gateway-model-name-rewrite": rewriteTo } : {}),
    },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }], max_tokens: 2 }),
  });

test("the same body model with different rewrite headers goes to each header's pool, in any order", async () => {
  const served = async (rewriteTo: string) => {
    const res = await chat("client-name", rewriteTo);
    expect(res.status).toBe(200);
    return res.headers.get("x-gateway-target-model");
  };
  expect(await served(QWEN)).toBe(QWEN);
  expect(await served(OPT)).toBe(OPT);
  expect(await served(QWEN)).toBe(QWEN);
  // Without the header the body's model is served by no pool: a 404 naming it.
  const bare = await chat("client-name");
  expect(bare.status).toBe(404);
  expect(((await bare.json()) as { error: { message: string } }).error.message).toContain("'client-name'");
});
