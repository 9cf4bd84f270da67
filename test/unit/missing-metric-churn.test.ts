import { expect, test } from "bun:test";
import { parseConfig } from "../../src/config/load.ts";
import type { FetchFn } from "../../src/deps.ts";
import { createGateway } from "../../src/gateway.ts";
import { createLogger } from "../../src/log.ts";

const CONFIG = `
apiVersion: gateway.inference.dev/v1alpha1
kind: GatewayConfig
dataLayer:
  engines:
    llamacpp:
      waiting: llamacpp:requests_deferred
      running: llamacpp:requests_processing
      kvUsage: llamacpp:kv_cache_usage_ratio
endpoints:
  - { name: a, address: "10.0.0.1:8080", engine: llamacpp, models: [m] }
`;

// Pods come and go under Kubernetes: what is remembered per endpoint must go with them.
test("a missing engine metric is forgotten with its endpoint, and warned again when one by that name comes back", async () => {
  const warnings: string[] = [];
  const logger = createLogger("warn", (line) => {
    const l = JSON.parse(line);
    if (l.level === "warn" && String(l.msg).includes("kvUsage")) warnings.push(String(l.msg));
  });
  // Current llama-server: no KV-cache usage gauge.
  const fetch: FetchFn = async () =>
    new Response("llamacpp:requests_processing 1\nllamacpp:requests_deferred 0\n");
  const gateway = createGateway({ config: parseConfig(CONFIG, "gw.yaml"), logger, fetch });
  gateway.start({ timers: false });
  await gateway.refresh();
  await gateway.refresh();
  expect(warnings).toHaveLength(1);
  const store = gateway.deps.endpoints;
  const a = store.get("a")!;
  store.remove("a");
  store.upsert([a]);
  await gateway.refresh();
  expect(warnings).toHaveLength(2);
  await gateway.stop();
});
