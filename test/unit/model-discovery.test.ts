import { expect, test } from "bun:test";
import { startModelDiscovery } from "../../src/endpoints/model-discovery.ts";
import { EndpointStore } from "../../src/endpoints/store.ts";
import { silentLogger } from "../../src/log.ts";

test("endpoints' /v1/models teach the store which models they serve; failures keep what was known", async () => {
  const store = new EndpointStore();
  const mk = (name: string, models: string[] = []) => ({
    name,
    address: `${name}:80`,
    labels: {},
    engine: "vllm",
    models: new Set(models),
  });
  store.upsert([mk("a"), mk("b"), mk("fixed", ["given"])]);
  let fail = false;
  const asked: string[] = [];
  const d = startModelDiscovery({
    store,
    logger: silentLogger(),
    shouldLearn: (n) => n !== "fixed",
    intervalMs: 60_000,
    fetch: async (url) => {
      asked.push(url);
      if (fail) throw new TypeError("refused");
      const id = url.includes("a:80") ? "base" : "other";
      return Response.json({ object: "list", data: [{ id }, { id: `${id}-lora` }] });
    },
  });
  await d.refresh();
  expect(store.serving("base").map((e) => e.name)).toEqual(["a"]);
  expect(store.serving("other-lora").map((e) => e.name)).toEqual(["b"]);
  expect(asked.some((u) => u.includes("fixed"))).toBe(false);
  fail = true;
  await d.refresh();
  expect(store.serving("base").map((e) => e.name)).toEqual(["a"]);
  d.stop();
});
