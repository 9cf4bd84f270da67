import { describe, expect, test } from "bun:test";
import type { DashboardEvent } from "../../routes/dashboard.ts";
import { createGateway, type Gateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { concurrencyPicker, inferencePool, testConfig } from "../helpers/config.ts";
import { fakeUpstream } from "../helpers/fake-upstream.ts";
import { rewrite } from "./pools-config.ts";
import { readEvents } from "./sse.ts";

// Issue 17 item 1: with many pools, the dashboard's events carry every pool, each with what
// its own detector, flow controller and endpoints say (no pool's figures in another's).

const ENDPOINTS = [
  { name: "chat-0", address: "10.0.0.1:8000", models: ["chat-m"], labels: { app: "chat" } },
  { name: "embed-0", address: "10.0.1.1:8000", models: ["embed-m"], labels: { app: "embed" } },
  { name: "embed-1", address: "10.0.1.2:8000", models: ["embed-m"], labels: { app: "embed" } },
];

/** Two pools: `chat` (flow control, full at one request per endpoint) and `embed` (flow control off). */
function twoPools() {
  const held: (() => void)[] = [];
  const upstream = fakeUpstream((call) => {
    const answer = () => Response.json({ object: "chat.completion", model: call.body["model"], choices: [] });
    // The chat pool's pod answers only when the test lets it; the embed pool's at once.
    if (!call.url.includes("10.0.0.1")) return answer();
    return new Promise<Response>((resolve) => held.push(() => resolve(answer())));
  });
  const config = testConfig(
    { endpoints: ENDPOINTS },
    inferencePool("chat"),
    inferencePool("embed"),
    concurrencyPicker(1, { name: "chat", flowControl: true }),
    concurrencyPicker(1, { name: "embed" }),
    rewrite("chat-alias", "chat", "chat-latest", ["chat-m"]),
    rewrite("embed-alias", "embed", "embed-latest", ["embed-m"]),
  );
  const gw = createGateway({ config, fetch: upstream.fetch, logger: silentLogger() });
  return { gw, upstream, held };
}

async function post(gw: Gateway, model: string, fairnessId = "team-a"): Promise<Response> {
  return await gw.fetch(
    new Request("http://gw/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json", "x-gateway-inference-fairness-id": fairnessId },
      body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
    }),
  );
}

async function snapshotOf(gw: Gateway): Promise<DashboardEvent["snapshot"]> {
  const [event] = await readEvents((await gw.fetch(new Request("http://gw/dashboard/events"))).body!, 1);
  return (JSON.parse(event!.data) as DashboardEvent).snapshot;
}

/** Lets pending callbacks run until `done` holds (bounded: a stuck gateway fails, never hangs). */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !done(); i++) await new Promise((r) => setTimeout(r, 0));
  expect(done()).toBe(true);
}

describe("the dashboard with two pools", () => {
  test("each pool's endpoints, saturation, flow control and queues, in routing order", async () => {
    const { gw, upstream, held } = twoPools();
    const running = post(gw, "chat-m");
    await until(() => upstream.calls.length === 1);
    const queued = post(gw, "chat-latest", "team-b"); // the chat pool is full: this one waits
    await until(() => gw.deps.pools.get("chat")?.flow?.stats().queued === 1);
    expect((await post(gw, "embed-latest")).status).toBe(200);

    const snap = await snapshotOf(gw);
    expect(snap.pools.map((p) => p.name)).toEqual(["chat", "embed"]);
    const [chat, embed] = snap.pools as [
      DashboardEvent["snapshot"]["pools"][0],
      DashboardEvent["snapshot"]["pools"][0],
    ];
    expect(chat.endpoints.map((e) => e.name)).toEqual(["chat-0"]);
    expect(embed.endpoints.map((e) => e.name)).toEqual(["embed-0", "embed-1"]);
    expect(chat.endpoints[0]!.inflight).toBe(1);
    expect(embed.endpoints.every((e) => e.inflight === 0)).toBe(true);
    expect(chat).toMatchObject({ flowControl: true, queued: 1, saturation: 1, rewrites: ["chat-alias"] });
    expect(chat.queues).toEqual([
      {
        priority: 0,
        requests: 1,
        bytes: expect.any(Number),
        flows: [expect.objectContaining({ fairnessId: "team-b", requests: 1 })],
      },
    ]);
    // The embed pool has no flow control of its own and nothing in flight: the chat pool's load is not its.
    expect(embed).toMatchObject({ flowControl: false, queued: 0, queues: [], rewrites: ["embed-alias"] });
    expect(embed.saturation).toBeLessThan(1);
    expect(snap.queued).toBe(1);
    // A rewrite decision (counted once the request is accepted, queued or not) belongs to
    // the pool whose InferenceModelRewrite made it.
    expect(snap.rewrites.sort((x, y) => x.rewrite.localeCompare(y.rewrite))).toEqual([
      { pool: "chat", rewrite: "chat-alias", model: "chat-latest", target: "chat-m", count: 1 },
      { pool: "embed", rewrite: "embed-alias", model: "embed-latest", target: "embed-m", count: 1 },
    ]);

    // The pod answers the running request; the queued one is then sent, and answered too.
    const answer = async (pending: Promise<Response>) => {
      await until(() => held.length > 0);
      held.shift()!();
      return (await pending).status;
    };
    expect(await answer(running)).toBe(200);
    expect(await answer(queued)).toBe(200);
    const after = await snapshotOf(gw);
    expect(after.pools.map((p) => [p.name, p.queued])).toEqual([
      ["chat", 0],
      ["embed", 0],
    ]);
    await gw.stop();
  });

  test("a reload that adds a pool shows it in the next event; one that removes a pool drops it", async () => {
    const { gw } = twoPools();
    expect((await post(gw, "embed-latest")).status).toBe(200);
    const third = { name: "code-0", address: "10.0.2.1:8000", models: ["code-m"], labels: { app: "code" } };
    gw.deps.config.swap(
      testConfig(
        { endpoints: [...ENDPOINTS, third] },
        inferencePool("chat"),
        inferencePool("embed"),
        inferencePool("code"),
      ),
    );
    const added = await snapshotOf(gw);
    expect(added.pools.map((p) => [p.name, p.endpoints.map((e) => e.name)])).toEqual([
      ["chat", ["chat-0"]],
      ["embed", ["embed-0", "embed-1"]],
      ["code", ["code-0"]],
    ]);
    gw.deps.config.swap(testConfig({ endpoints: [third] }, inferencePool("code")));
    const removed = await snapshotOf(gw);
    expect(removed.pools.map((p) => p.name)).toEqual(["code"]);
    // Decisions made by a rewrite no pool has any more still count, with no pool.
    expect(removed.rewrites).toEqual([
      { pool: null, rewrite: "embed-alias", model: "embed-latest", target: "embed-m", count: 1 },
    ]);
    await gw.stop();
  });
});
