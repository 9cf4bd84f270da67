import { expect, test } from "bun:test";
import { seededRandom } from "../../src/clock.ts";
import type { FetchFn } from "../../src/deps.ts";
import { createGateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { concurrencyPicker, POOL, testConfig } from "../helpers/config.ts";
import { FakeTime } from "../helpers/fake-time.ts";

const PICKER = concurrencyPicker(1, { flowControl: ["defaultRequestTTL: 60s"] });

const ROUTE = `
apiVersion: aigateway.envoyproxy.io/v1beta1
kind: AIGatewayRoute
metadata: { name: r, annotations: { gateway.inference.dev/spill-after-ms: "5000" } }
spec:
  rules:
    - backendRefs:
        - { name: pool, group: inference.networking.k8s.io, kind: InferencePool }
        - { name: hosted, priority: 1, modelNameOverride: big }
---
apiVersion: aigateway.envoyproxy.io/v1beta1
kind: AIServiceBackend
metadata: { name: hosted }
spec:
  schema: { name: OpenAI }
  backendRef: { name: hosted, kind: Backend, group: gateway.envoyproxy.io }
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: { name: hosted }
spec: { endpoints: [{ fqdn: { hostname: hosted.example, port: 8080 } }] }`;

/**
 * On fake time: one pod with room for one request (it never answers until released), a
 * hosted backend behind it. The queued request spills exactly when the budget ends, not before.
 */
test("a queued interactive request spills when its queue budget (5000 ms) runs out, not a millisecond earlier", async () => {
  const time = new FakeTime();
  const hosted: string[] = [];
  let release: (() => void) | undefined;
  const fetch: FetchFn = async (url, init) => {
    if (url.endsWith("/metrics") || url.endsWith("/health")) return new Response("");
    if (url.startsWith("http://hosted.example:8080/")) {
      hosted.push(JSON.parse(new TextDecoder().decode(init.body as Uint8Array)).model);
      return Response.json({ object: "chat.completion", model: "big", choices: [] });
    }
    await new Promise<void>((resolve) => {
      release = resolve;
    });
    return Response.json({ object: "chat.completion", model: "m", choices: [] });
  };
  const gw = createGateway({
    config: testConfig(
      { endpoints: [{ name: "a", address: "10.0.0.1:8000", models: ["m"] }] },
      POOL,
      PICKER,
      ROUTE,
    ),
    fetch,
    logger: silentLogger(),
    random: seededRandom(1),
    clock: time.clock,
    setTimer: time.setTimer,
  });
  const send = () =>
    gw.fetch(
      new Request("http://gw/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "x" }] }),
      }),
    );
  const first = send();
  await time.advanceAsync(1);
  expect(release).toBeDefined();
  const second = send();
  await time.advanceAsync(4998);
  expect(gw.deps.pools.first().flow!.stats().queued).toBe(1);
  expect(hosted).toEqual([]);
  await time.advanceAsync(2);
  const spilled = await second;
  expect(spilled.status).toBe(200);
  expect(spilled.headers.get("x-gateway-spilled-to")).toBe("hosted");
  expect(hosted).toEqual(["big"]);
  expect(gw.deps.pools.first().flow!.stats().queued).toBe(0);
  release!();
  expect((await first).status).toBe(200);
  await gw.stop();
});
