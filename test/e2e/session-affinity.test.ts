import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { type Stack, startStack } from "../helpers/stack.ts";

// Session affinity with a custom header name, end to end: the answer must carry the token
// under the configured `headerName` (the header the scorer reads), so a client that echoes
// it keeps landing on the pod that holds its conversation's KV cache.

const MODEL = "facebook/opt-125m";
const PICKER = `
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
  - type: session-affinity-scorer
    parameters: { headerName: x-affinity }
  - type: queue-scorer
  - type: max-score-picker
schedulingProfiles:
  - name: default
    plugins: [{ pluginRef: session-affinity-scorer, weight: 10 }, { pluginRef: queue-scorer }, { pluginRef: max-score-picker }]`;

let stack: Stack;
let client: OpenAI;

beforeAll(async () => {
  stack = await startStack({
    pods: [0, 1, 2, 3].map(() => ({ model: MODEL })),
    yaml: [PICKER],
    settings: { endpointServedHeader: true },
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

afterAll(() => stack.close());

/** One short chat; its answer's headers. Prompts differ so the picker's prefix hash spreads them. */
async function ask(i: number, headers: Record<string, string> = {}): Promise<Headers> {
  const { response } = await client.chat.completions
    .create(
      {
        model: MODEL,
        messages: [{ role: "user", content: `conversation turn ${i} `.repeat(8) }],
        max_tokens: 2,
      },
      { headers },
    )
    .withResponse();
  return response.headers;
}

describe("session affinity with headerName: x-affinity (real ports, openai client)", () => {
  test("the answer carries the token under x-affinity, not x-session-token", async () => {
    const headers = await ask(0);
    expect(headers.get("x-affinity")).toBeTruthy();
    expect(headers.get("x-session-token")).toBeNull();
  });

  test("requests echoing the token stick to one pod among four; without it they spread", async () => {
    const first = await ask(0);
    const token = first.get("x-affinity")!;
    const pod = first.get("x-gateway-destination-endpoint-served");
    expect(token).toBeTruthy();
    const sticky = new Set<string | null>();
    const free = new Set<string | null>();
    for (let i = 1; i <= 12; i++) {
      sticky.add((await ask(i, { "x-affinity": token })).get("x-gateway-destination-endpoint-served"));
      free.add((await ask(i)).get("x-gateway-destination-endpoint-served"));
    }
    expect([...sticky]).toEqual([pod]);
    expect(free.size).toBeGreaterThan(1);
  });
});
