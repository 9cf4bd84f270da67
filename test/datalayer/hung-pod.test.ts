/**
 * Issue 14 items 6 and 7 end to end: a pod that stops answering (accepts, never replies,
 * like one stopped with SIGSTOP) leaves scheduling once its scrape is late, instead of
 * taking its share of requests until the response timeout; when it resumes, the late
 * scrape lands and the pod is back. Real ports, the official client, fake time.
 */
import { afterEach, expect, test } from "bun:test";
import OpenAI from "openai";
import { seededRandom } from "../../src/clock.ts";
import { createGateway, type Gateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { serveBun } from "../../src/runtime/serve-bun.ts";
import type { RunningServer } from "../../src/runtime/server.ts";
import { testConfig } from "../helpers/config.ts";
import { FakeTime } from "../helpers/fake-time.ts";
import { VLLM_BODY, waitFor } from "./helpers/metrics-server.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A model server: /metrics and chat completions. While stopped it accepts and answers nothing until resumed. */
function pod() {
  const state = { stopped: false, chats: 0, scrapes: 0 };
  const paused: (() => void)[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/metrics") state.scrapes++;
      else state.chats++;
      if (state.stopped) {
        await new Promise<void>((resolve) => {
          paused.push(resolve);
          req.signal.addEventListener("abort", () => resolve());
        });
      }
      if (path === "/metrics") return new Response(VLLM_BODY(0));
      return Response.json({
        id: "c",
        object: "chat.completion",
        created: 0,
        model: "m",
        choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
      });
    },
  });
  cleanups.push(() => server.stop(true));
  return {
    state,
    address: `127.0.0.1:${server.port}`,
    /** SIGCONT: answer what was held. */
    resume() {
      state.stopped = false;
      for (const r of paused.splice(0)) r();
    },
  };
}

test("a pod that stops answering stops getting new requests once its scrape is late, and comes back", async () => {
  const a = pod();
  const b = pod();
  const time = new FakeTime();
  const gateway: Gateway = createGateway({
    config: testConfig({
      dataLayer: { scrapeIntervalMs: 50, scrapeTimeoutMs: 200, stalenessMs: 2000 },
      endpoints: [
        { name: "a", address: a.address, models: ["m"] },
        { name: "b", address: b.address, models: ["m"] },
      ],
    }),
    clock: time.clock,
    setTimer: time.setTimer,
    random: seededRandom(7),
    logger: silentLogger(),
  });
  gateway.start();
  const server: RunningServer = await serveBun({ fetch: gateway.fetch, port: 0, hostname: "127.0.0.1" });
  cleanups.push(
    () => server.close(),
    () => gateway.stop(),
  );
  const client = new OpenAI({
    baseURL: `http://127.0.0.1:${server.port}/v1`,
    apiKey: "unused",
    maxRetries: 0,
  });
  const store = gateway.deps.endpoints;
  /** A first good scrape of `name` has ended. */
  const scraped = (name: string) => () =>
    (store.get(name)?.metrics.updatedAt ?? 0) > 0 && store.get(name)?.scrape?.inFlightSince === undefined;
  /** Sends `n` chats at once; resolves when every one has reached a pod (answered or not). */
  const burst = async (n: number) => {
    const before = a.state.chats + b.state.chats;
    const answers = Array.from({ length: n }, () =>
      client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] }),
    );
    await waitFor(() => a.state.chats + b.state.chats >= before + n, 10_000, `${n} chats to reach a pod`);
    return answers;
  };

  await time.advanceAsync(0);
  await waitFor(scraped("a"), 5000, "a scraped");
  await waitFor(scraped("b"), 5000, "b scraped");
  await Promise.all(await burst(10));
  expect(b.state.chats).toBeGreaterThan(0); // both pods serve while both answer

  b.state.stopped = true;
  const chatsB = b.state.chats;
  const scrapesB = b.state.scrapes;
  await time.advanceAsync(50); // the next scrapes start; b's hangs
  await waitFor(() => b.state.scrapes > scrapesB, 5000, "b's scrape to hang");
  await waitFor(() => store.get("a")?.scrape?.inFlightSince === undefined, 5000, "a's scrape to end");
  await time.advanceAsync(201); // b's scrape is late (scrapeTimeoutMs): b lags
  expect(store.get("b")!.scrape!.failures).toBe(0); // not abandoned: that is 2 s further
  const answers = await burst(20);
  expect(b.state.chats).toBe(chatsB); // not one new request went to the hung pod
  for (const r of await Promise.all(answers)) expect(r.choices[0]!.message.content).toBe("ok");

  const since = store.get("b")!.metrics.updatedAt;
  b.resume(); // the late scrape lands, on the connection it was sent on
  await waitFor(() => store.get("b")!.metrics.updatedAt > since, 5000, "b's late scrape to land");
  expect(store.get("b")!.scrape!.failures).toBe(0);
  await Promise.all(await burst(20));
  expect(b.state.chats).toBeGreaterThan(chatsB); // back in scheduling
});

test("without timers (a Durable Object's alarm) a round gives up on a hung pod at scrapeTimeoutMs", async () => {
  const a = pod();
  const b = pod();
  b.state.stopped = true;
  const time = new FakeTime();
  const gateway = createGateway({
    config: testConfig({
      dataLayer: { scrapeIntervalMs: 50, scrapeTimeoutMs: 200, stalenessMs: 2000 },
      endpoints: [
        { name: "a", address: a.address, models: ["m"] },
        { name: "b", address: b.address, models: ["m"] },
      ],
    }),
    clock: time.clock,
    setTimer: time.setTimer,
    logger: silentLogger(),
  });
  gateway.start({ timers: false });
  cleanups.push(() => gateway.stop());
  let done = false;
  const round = gateway.refresh().then(() => {
    done = true;
  });
  await waitFor(
    () => b.state.scrapes === 1 && gateway.deps.endpoints.get("a")!.metrics.updatedAt > 0,
    5000,
    "scrapes",
  );
  await time.advanceAsync(199);
  expect(done).toBe(false);
  // The next alarm waits for this round: holding it until the late-scrape limit would
  // leave every pod's metrics to age past stalenessMs.
  await time.advanceAsync(1);
  await waitFor(() => done, 3000, "the round to end at scrapeTimeoutMs");
  await round;
  expect(gateway.deps.endpoints.get("b")!.scrape!.failures).toBe(1);
});
