import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { sha256Hex } from "../../src/auth/keys.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

/**
 * Responses API state lives on the pod that produced a response; these are the cases
 * around that rule a platform's clients hit: a conversation that switches to a model
 * another pool serves, one that switches between a base model and its adapter on the
 * same pod, and the id routes (retrieve) with the pod named and the key's model limit.
 */
const CHAT = "facebook/opt-125m";
const QWEN = "Qwen/Qwen3-8B";
const pool = (name: string, app: string) => `
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: { name: ${name} }
spec: { selector: { matchLabels: { app: ${app} } }, targetPorts: [{ number: 8000 }] }
`;

let stack: Stack;
const client = (key = "sk-all") => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });

beforeAll(async () => {
  stack = await startStack({
    pods: [{ model: CHAT, loras: ["sql-lora"] }, { model: CHAT, loras: ["sql-lora"] }, { model: QWEN }],
    podLabels: (i) => ({ app: i < 2 ? "opt" : "qwen" }),
    yaml: [pool("opt-pool", "opt"), pool("qwen-pool", "qwen")],
    settings: {
      endpointServedHeader: true,
      auth: {
        apiKeys: [
          { name: "all", sha256: await sha256Hex("sk-all") },
          { name: "qwen-only", sha256: await sha256Hex("sk-qwen"), models: [QWEN] },
        ],
      },
    },
  });
});

afterAll(() => stack.close());

const served = (raw: Response) => raw.headers.get("x-gateway-destination-endpoint-served");

describe("Responses API homes across pools", () => {
  test("a turn that switches to a model another pool serves is routed by its model, not refused as unknown", async () => {
    const first = await client().responses.create({ model: QWEN, input: "hi", max_output_tokens: 2 });
    // The qwen pod holds the response; the opt pool's pods do not, so they answer as vLLM
    // does for an id they never stored. What must not happen: the turn sent to the qwen
    // pool, where the gateway would call the opt model unknown.
    const res = await fetch(`${stack.url}/v1/responses`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-all" },
      body: JSON.stringify({
        model: CHAT,
        input: "go on",
        max_output_tokens: 2,
        previous_response_id: first.id,
      }),
    });
    const body = (await res.json()) as { error?: { message: string } };
    expect(body.error?.message ?? "").not.toContain("does not exist");
    expect(stack.pods.slice(0, 2).map((p) => `127.0.0.1:${p.port}`)).toContain(served(res) ?? "");
  });

  test("a turn that switches between the base model and its adapter stays on the pod that holds it", async () => {
    let raw = await client()
      .responses.create({ model: CHAT, input: "turn 0", max_output_tokens: 2 })
      .withResponse();
    const home = served(raw.response);
    let id = raw.data.id;
    for (let turn = 1; turn < 6; turn++) {
      raw = await client()
        .responses.create({
          model: turn % 2 ? "sql-lora" : CHAT,
          input: `turn ${turn}`,
          max_output_tokens: 2,
          previous_response_id: id,
        })
        .withResponse();
      expect(served(raw.response)).toBe(home);
      id = raw.data.id;
    }
  });

  test("retrieving a response names the pod that answered, and a key limited to other models may not", async () => {
    const { data, response } = await client()
      .responses.create({ model: CHAT, input: "keep me", max_output_tokens: 2 })
      .withResponse();
    const got = await fetch(`${stack.url}/v1/responses/${data.id}`, {
      headers: { authorization: "Bearer sk-all" },
    });
    expect(got.status).toBe(200);
    expect(served(got)).toBe(served(response));
    const other = await fetch(`${stack.url}/v1/responses/${data.id}`, {
      headers: { authorization: "Bearer sk-qwen" },
    });
    expect(other.status).toBe(403);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe("model_not_allowed");
    const cancel = await fetch(`${stack.url}/v1/responses/${data.id}/cancel`, {
      method: "POST",
      headers: { authorization: "Bearer sk-qwen" },
    });
    expect(cancel.status).toBe(403);
  });
});
