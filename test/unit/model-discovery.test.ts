import { describe, expect, test } from "bun:test";
import { startModelDiscovery } from "../../src/endpoints/model-discovery.ts";
import { EndpointStore } from "../../src/endpoints/store.ts";
import { silentLogger } from "../../src/log.ts";
import { FakeTime } from "../helpers/fake-time.ts";

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
    timers: false,
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

describe("model discovery on fake time", () => {
  const one = () => {
    const store = new EndpointStore();
    store.upsert([{ name: "a", address: "a:80", labels: {}, engine: "vllm", models: new Set() }]);
    return store;
  };

  test("rounds repeat intervalMs after the previous one ends; stop() cancels the next", async () => {
    const time = new FakeTime();
    let asks = 0;
    const d = startModelDiscovery({
      store: one(),
      logger: silentLogger(),
      shouldLearn: () => true,
      intervalMs: 5000,
      setTimer: time.setTimer,
      fetch: async () => {
        asks++;
        return Response.json({ data: [{ id: "m" }] });
      },
    });
    await time.advanceAsync(0);
    expect(asks).toBe(1);
    await time.advanceAsync(4999);
    expect(asks).toBe(1);
    await time.advanceAsync(1);
    expect(asks).toBe(2);
    d.stop();
    expect(time.pending).toBe(0);
    await time.advanceAsync(60_000);
    expect(asks).toBe(2);
  });

  test("an ask that outlives timeoutMs is aborted and keeps what was known", async () => {
    const time = new FakeTime();
    const store = one();
    store.setModels("a", new Set(["known"]));
    const signals: AbortSignal[] = [];
    const d = startModelDiscovery({
      store,
      logger: silentLogger(),
      shouldLearn: () => true,
      timeoutMs: 2000,
      timers: false,
      setTimer: time.setTimer,
      fetch: (_url, init) => {
        const signal = init.signal!;
        signals.push(signal);
        return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
      },
    });
    const round = d.refresh();
    await time.advanceAsync(1999);
    expect(signals[0]!.aborted).toBe(false);
    await time.advanceAsync(1);
    await round;
    expect(signals[0]!.aborted).toBe(true);
    expect((signals[0]!.reason as Error).name).toBe("TimeoutError");
    expect(store.serving("known").map((e) => e.name)).toEqual(["a"]);
    expect(time.pending).toBe(0);
    d.stop();
  });

  test("a non-JSON or error answer is a failed ask, not a crash", async () => {
    const time = new FakeTime();
    const store = one();
    store.setModels("a", new Set(["known"]));
    const answers = [
      new Response("<html>", { status: 200 }),
      Response.json({ data: "x" }),
      new Response("no", { status: 502 }),
    ];
    const d = startModelDiscovery({
      store,
      logger: silentLogger(),
      shouldLearn: () => true,
      timers: false,
      setTimer: time.setTimer,
      fetch: async () => answers.shift()!,
    });
    for (let i = 0; i < 3; i++) await d.refresh();
    expect(store.serving("known").map((e) => e.name)).toEqual(["a"]);
    d.stop();
  });
});

test("a pod that appears or moves is asked at once, not at the next round", async () => {
  const time = new FakeTime();
  const store = new EndpointStore();
  const ep = (name: string, address: string, models: string[] = []) => ({
    name,
    address,
    labels: {},
    engine: "vllm",
    models: new Set(models),
  });
  store.upsert([ep("a", "a:80")]);
  const asked: string[] = [];
  const d = startModelDiscovery({
    store,
    logger: silentLogger(),
    shouldLearn: (n) => n !== "fixed",
    intervalMs: 60_000,
    setTimer: time.setTimer,
    fetch: async (url) => {
      asked.push(url);
      return Response.json({ data: [{ id: url.includes("b2") ? "moved" : "m" }] });
    },
  });
  await time.advanceAsync(0);
  expect(asked).toEqual(["http://a:80/v1/models"]);
  store.upsert([ep("b", "b:80"), ep("fixed", "f:80", ["given"])]);
  await time.advanceAsync(0); // no time passes: the ask is not a timer
  expect(asked).toEqual(["http://a:80/v1/models", "http://b:80/v1/models"]);
  expect(store.serving("m").map((e) => e.name)).toEqual(["a", "b"]);
  store.upsert([ep("b", "b2:80")]); // same name, new pod IP
  await time.advanceAsync(0);
  expect(asked.at(-1)).toBe("http://b2:80/v1/models");
  expect(store.serving("moved").map((e) => e.name)).toEqual(["b"]);
  d.stop();
  store.upsert([ep("c", "c:80")]);
  await time.advanceAsync(0);
  expect(asked.length).toBe(3); // stopped: no more asks
});
