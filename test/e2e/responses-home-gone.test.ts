import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Stack, startStack, waitFor } from "../helpers/stack.ts";

/**
 * A `previous_response_id` goes to the pod holding that response only while that pod is
 * usable: once it is gone (its metrics stale), the turn is scheduled like any other, and
 * the pod it reaches answers for itself (vLLM: a 404 for an id it never stored), rather
 * than the gateway holding the turn on a dead pod.
 */
const MODEL = "facebook/opt-125m";
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    pods: [{ model: MODEL }, { model: MODEL }],
    settings: {
      endpointServedHeader: true,
      dataLayer: { scrapeIntervalMs: 20, stalenessMs: 200, scrapeTimeoutMs: 100 },
    },
  });
});

afterAll(() => stack.close());

const respond = (body: Record<string, unknown>) =>
  fetch(`${stack.url}/v1/responses`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: MODEL, max_output_tokens: 2, ...body }),
  });

test("a turn whose response's pod is gone is scheduled on a live pod, which answers for itself", async () => {
  await waitFor(async () => (await fetch(`${stack.url}/readyz`)).status === 200);
  const first = await respond({ input: "hello" });
  expect(first.status).toBe(200);
  const home = first.headers.get("x-gateway-destination-endpoint-served")!;
  const id = ((await first.json()) as { id: string }).id;
  const homeIndex = stack.pods.findIndex((p) => `127.0.0.1:${p.port}` === home);
  const other = `127.0.0.1:${stack.pods[1 - homeIndex]!.port}`;
  await stack.pods[homeIndex]!.close();
  // Once the gateway stops counting the closed pod as usable, turns go to the other one.
  let last: Response | undefined;
  await waitFor(async () => {
    last = await respond({ input: "go on", previous_response_id: id });
    return last.headers.get("x-gateway-destination-endpoint-served") === other;
  });
  // That pod never stored the response: its own 404, passed through.
  expect(last!.status).toBe(404);
  expect(((await last!.json()) as { error: { message: string } }).error.message).toContain(id);
});
