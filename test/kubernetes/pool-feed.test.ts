import { expect, test } from "bun:test";
import { EndpointStore } from "../../src/endpoints/store.ts";
import { type FedPools, PoolFeed } from "../../src/kubernetes/pool-feed.ts";

/** A PoolSet stand-in: pools by name, and the change listeners PoolSet calls after reconciling. */
function pools() {
  const byName = new Map<string, { endpoints: EndpointStore }>();
  const listeners = new Set<() => void>();
  const set: FedPools & { add(name: string): EndpointStore; remove(name: string): void } = {
    get: (name) => byName.get(name),
    onChange: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    add(name) {
      const p = { endpoints: new EndpointStore() };
      byName.set(name, p);
      for (const l of listeners) l();
      return p.endpoints;
    },
    remove(name) {
      byName.delete(name);
      for (const l of listeners) l();
    },
  };
  return set;
}

const ep = (name: string, address: string) => ({
  name,
  address,
  labels: {},
  engine: "vllm",
  models: new Set<string>(),
});
const names = (s: EndpointStore) => s.list().map((e) => e.name);

test("endpoints reported before their pool exists are applied when it appears", () => {
  const set = pools();
  const feed = new PoolFeed(set);
  feed.set("embed", [ep("embed-0:8000", "10.0.0.2:8000")]);
  const store = set.add("embed");
  expect(names(store)).toEqual(["embed-0:8000"]);
  feed.stop();
});

test("a retired pool keeps the endpoints it has; a pool built anew under the name gets the latest set", () => {
  const set = pools();
  const feed = new PoolFeed(set);
  const first = set.add("chat");
  feed.set("chat", [ep("chat-0:8000", "10.0.0.1:8000")]);
  expect(names(first)).toEqual(["chat-0:8000"]);
  set.remove("chat"); // retiring: finishes its requests on these endpoints
  feed.set("chat", []); // discovery's last word for the pool
  expect(names(first)).toEqual(["chat-0:8000"]);
  feed.set("chat", [ep("chat-1:8000", "10.0.0.3:8000")]);
  const second = set.add("chat");
  expect(names(second)).toEqual(["chat-1:8000"]);
  expect(names(first)).toEqual(["chat-0:8000"]);
  // Pools that come and go under new names leave nothing behind once gone.
  for (let i = 0; i < 100; i++) {
    set.add(`pr-${i}`);
    feed.set(`pr-${i}`, [ep(`pr-${i}-0:8000`, "10.0.1.1:8000")]);
    set.remove(`pr-${i}`);
    feed.set(`pr-${i}`, []);
  }
  expect(feed.size).toBe(1); // chat
  feed.stop();
});

test("pods that stay keep the models learned from their /v1/models", () => {
  const set = pools();
  const feed = new PoolFeed(set);
  const store = set.add("chat");
  feed.set("chat", [ep("chat-0:8000", "10.0.0.1:8000")]);
  store.upsert([{ ...ep("chat-0:8000", "10.0.0.1:8000"), models: new Set(["llama"]) }]);
  feed.set("chat", [ep("chat-0:8000", "10.0.0.1:8000"), ep("chat-1:8000", "10.0.0.3:8000")]);
  expect([...store.get("chat-0:8000")!.models]).toEqual(["llama"]);
  expect(store.get("chat-1:8000")!.models.size).toBe(0);
  feed.stop();
});
