import { expect, test } from "bun:test";
import { createGateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { MAX_FAIRNESS_ID_LENGTH } from "../../src/stages/parse.ts";
import { testConfig } from "../helpers/config.ts";

/**
 * The fairness id is client input that flow control keeps (per queued flow, and token
 * fairness's idle counters): its length is bounded, with a 400 that says what to change.
 */
const FLOW = `
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
featureGates: [flowControl]
`;

function gateway(...docs: string[]) {
  return createGateway({
    config: testConfig({ endpoints: [{ name: "a", address: "127.0.0.1:9", models: ["m"] }] }, ...docs),
    logger: silentLogger(),
  });
}

const chat = (gw: ReturnType<typeof gateway>, header: string, id: string) =>
  gw.fetch(
    new Request("http://gw/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json", [header]: id },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }),
    }),
  );

test.each(["x-gateway-inference-fairness-id", "x-llm-d-inference-fairness-id"])(
  "an over-long fairness id in %s is refused with a 400 naming the limit",
  async (header) => {
    const gw = gateway(FLOW);
    const res = await chat(gw, header, "t".repeat(MAX_FAIRNESS_ID_LENGTH + 1));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("invalid_fairness_id");
    expect(body.error.message).toContain(`at most ${MAX_FAIRNESS_ID_LENGTH}`);
    expect(gw.deps.flow!.stats().bands.flatMap((b) => b.flows)).toEqual([]);
  },
);

test("a fairness id at the limit is accepted (the request goes on to the pod)", async () => {
  const gw = gateway(); // flow control off: a never-scraped pod would hold the request in the queue
  const res = await chat(gw, "x-gateway-inference-fairness-id", "t".repeat(MAX_FAIRNESS_ID_LENGTH));
  const body = (await res.json()) as { error?: { code: string } };
  expect(body.error?.code).not.toBe("invalid_fairness_id");
  expect(res.status).not.toBe(400);
});
