import { afterEach, describe, expect, test } from "bun:test";
import { type DashboardEvent, EVENT_INTERVAL_MS, eventStream } from "../../routes/dashboard.ts";
import { sha256Hex } from "../../src/auth/keys.ts";
import type { SetTimer } from "../../src/clock.ts";
import { createGateway, type Gateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { serveBun } from "../../src/runtime/serve-bun.ts";
import type { RunningServer } from "../../src/runtime/server.ts";
import { testConfig } from "../helpers/config.ts";
import { FakeTime } from "../helpers/fake-time.ts";
import { fakeUpstream } from "../helpers/fake-upstream.ts";
import { waitFor } from "../helpers/stack.ts";
import { readEvents } from "./sse.ts";

const ENDPOINTS = [
  { name: "a", address: "10.0.0.1:8000", models: ["m", "m-canary"] },
  { name: "b", address: "10.0.0.2:8000", models: ["m", "m-canary"] },
];
const ALIAS = `
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: { name: canary }
spec:
  poolRef: { name: pool }
  rules:
    - matches: [{ model: { type: Exact, value: stable } }]
      targets: [{ modelRewrite: m, weight: 50 }, { modelRewrite: m-canary, weight: 50 }]
`;

async function gateway(metricsKey?: string, setTimer?: SetTimer) {
  const auth = metricsKey ? { auth: { metricsKeys: [await sha256Hex(metricsKey)] } } : {};
  const config = testConfig({ endpoints: ENDPOINTS, ...auth }, ALIAS);
  return createGateway({
    config,
    fetch: fakeUpstream().fetch,
    logger: silentLogger(),
    ...(setTimer ? { setTimer } : {}),
  });
}

/**
 * Fake time whose timers of `ms` (an interval nothing else in the gateway uses) are
 * counted: the stream's own wait, told apart from the scraper's and discovery's timers.
 */
function pacedTime(ms: number) {
  const time = new FakeTime();
  const waits = { active: 0 };
  const setTimer: SetTimer = (fn, delay) => {
    if (delay !== ms) return time.setTimer(fn, delay);
    waits.active++;
    let done = false;
    const end = () => {
      if (!done) waits.active--;
      done = true;
    };
    const cancel = time.setTimer(() => {
      end();
      fn();
    }, delay);
    return () => {
      end();
      cancel();
    };
  };
  return { time, waits, setTimer };
}

/** True once `promise` has settled, after letting pending callbacks run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 20; i++) await Promise.resolve();
  return done;
}

async function chat(gw: Gateway, model: string): Promise<string> {
  const res = await gw.fetch(
    new Request("http://gw/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
    }),
  );
  return res.text();
}

const events = (gw: Gateway, query = "", headers: Record<string, string> = {}) =>
  gw.fetch(new Request(`http://gw/dashboard/events${query}`, { headers }));

/** Counts the work a stream does: every event reads the recent-requests ring once. */
function countReads(gw: Gateway) {
  const recent = gw.deps.recent;
  const since = recent.since.bind(recent);
  const counter = { reads: 0 };
  recent.since = (seq) => {
    counter.reads++;
    return since(seq);
  };
  return counter;
}

describe("GET /dashboard/events", () => {
  test("streams snapshot events: the snapshot, the request totals and the requests since the last event", async () => {
    const gw = await gateway();
    for (let i = 0; i < 6; i++) await chat(gw, "stable");
    const res = await events(gw, "?interval=100");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const [e1, e2] = await readEvents(res.body!, 2);
    const received: DashboardEvent[] = [];
    for (const e of [e1!, e2!]) {
      expect(e.event).toBe("snapshot");
      received.push(JSON.parse(e.data));
    }
    const [a, b] = received as [DashboardEvent, DashboardEvent];
    // One pool (the file names none): the snapshot carries it alone, under its default name.
    expect(a.snapshot.pools).toHaveLength(1);
    const pool = a.snapshot.pools[0]!;
    expect(pool).toMatchObject({
      name: "default",
      saturation: expect.any(Number),
      flowControl: false,
      queues: [],
      queued: 0,
      rewrites: ["canary"],
    });
    expect(pool.endpoints.map((e) => e.name)).toEqual(["a", "b"]);
    expect(Object.keys(pool.endpoints[0]!).sort()).toEqual(
      [
        "address",
        "ejected",
        "inflight",
        "kvCacheUsage",
        "metricsAgeMs",
        "models",
        "name",
        "running",
        "stale",
        "waiting",
      ].sort(),
    );
    expect(a.snapshot.rewrites.reduce((n, r) => n + r.count, 0)).toBe(6);
    expect(
      a.snapshot.rewrites.every(
        (r) => r.rewrite === "canary" && r.model === "stable" && r.pool === "default",
      ),
    ).toBe(true);
    expect(a.totals).toEqual({ requests: 6, errors: 0 });
    // The first event carries what the ring holds; the id is the ring's sequence number.
    expect(a.recent.seq).toBe(6);
    expect(e1!.id).toBe("6");
    expect(a.recent.items).toHaveLength(6);
    expect(a.recent.items[0]).toMatchObject({
      model: "stable",
      rewrite: "canary",
      status: 200,
      outcome: "success",
    });
    expect(["m", "m-canary"]).toContain(a.recent.items[0]!.targetModel!);
    expect(b.recent).toEqual({ seq: 6, items: [] });
    expect(b.snapshot.time).toBeGreaterThanOrEqual(a.snapshot.time + 90);
  });

  test("each event brings only the requests finished since the previous one", async () => {
    const gw = await gateway();
    await chat(gw, "m");
    const res = await events(gw, "?interval=100");
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const next = async (): Promise<DashboardEvent> => {
      const { value } = await reader.read();
      const text = decoder.decode(value);
      return JSON.parse(/^data: (.*)$/m.exec(text)![1]!);
    };
    const first = await next();
    expect(first.recent.items.map((i) => i.model)).toEqual(["m"]);
    await chat(gw, "stable");
    await chat(gw, "m");
    const second = await next();
    expect(second.recent.items.map((i) => i.model)).toEqual(["stable", "m"]);
    expect(second.totals.requests).toBe(3);
    const third = await next();
    expect(third.recent).toEqual({ seq: 3, items: [] });
    await reader.cancel();
  });

  test("records deferred past the answer (a runtime entry's afterAnswer) are in the next event", async () => {
    const gw = await gateway();
    // A loop turn that never comes: only the event's own drain can write the records.
    gw.deps.afterAnswer.defer(() => {});
    await chat(gw, "m");
    await chat(gw, "stable");
    expect(gw.deps.afterAnswer.pending).toBeGreaterThan(0);
    const event = JSON.parse((await readEvents((await events(gw, "")).body!, 1))[0]!.data) as DashboardEvent;
    expect(event.recent.items.map((i) => i.model)).toEqual(["m", "stable"]);
    expect(event.totals.requests).toBe(2);
    expect(gw.deps.afterAnswer.pending).toBe(0);
  });

  test("resumes after the client's last seq (?since= or Last-Event-ID); a seq from before a restart gets all", async () => {
    const gw = await gateway();
    for (const m of ["m", "stable", "m"]) await chat(gw, m);
    const bySince = JSON.parse((await readEvents((await events(gw, "?since=2")).body!, 1))[0]!.data);
    expect(bySince.recent).toMatchObject({ seq: 3, items: [{ model: "m" }] });
    const byHeader = JSON.parse(
      (await readEvents((await events(gw, "", { "last-event-id": "1" })).body!, 1))[0]!.data,
    );
    expect(byHeader.recent.items.map((i: { model: string }) => i.model)).toEqual(["stable", "m"]);
    const ahead = JSON.parse((await readEvents((await events(gw, "?since=99")).body!, 1))[0]!.data);
    expect(ahead.recent.items).toHaveLength(3);
  });

  test("?interval= paces the events, bounded to 100..5000 ms; the default is 500 ms", async () => {
    expect(EVENT_INTERVAL_MS).toEqual({ min: 100, max: 5000, default: 500 });
    const time = new FakeTime();
    const gw = await gateway(undefined, time.setTimer);
    /** Fake milliseconds from the first event to the second (the stream's wait, exactly). */
    const gap = async (query: string) => {
      const reader = (await events(gw, query)).body!.getReader();
      await reader.read();
      const second = reader.read();
      let waited = 0;
      while (!(await settled(second)) && waited < 10_000) {
        await time.advanceAsync(1);
        waited++;
      }
      await reader.cancel();
      return waited;
    };
    expect(await gap("?interval=1")).toBe(100);
    expect(await gap("?interval=250")).toBe(250);
    expect(await gap("?interval=99999")).toBe(5000);
    expect(await gap("?interval=abc")).toBe(500);
    expect(await gap("")).toBe(500);
  });

  test("protected like /metrics, with ?key= for EventSource (which cannot send headers)", async () => {
    const gw = await gateway("sk-metrics");
    expect((await events(gw)).status).toBe(401);
    expect((await events(gw, "?key=wrong")).status).toBe(401);
    const byQuery = await events(gw, "?key=sk-metrics&interval=100");
    expect(byQuery.status).toBe(200);
    expect(await readEvents(byQuery.body!, 2)).toHaveLength(2);
    const byHeader = await events(gw, "", { authorization: "Bearer sk-metrics" });
    expect(byHeader.status).toBe(200);
    await byHeader.body!.cancel();
  });
});

describe("no work when nobody watches", () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  test("nothing is computed without a stream, and a stream stops when its reader cancels", async () => {
    const { time, waits, setTimer } = pacedTime(4321);
    const gw = await gateway(undefined, setTimer);
    const counter = countReads(gw);
    await time.advanceAsync(60_000);
    expect(counter.reads).toBe(0);
    const reader = (await events(gw, "?interval=4321")).body!.getReader();
    await reader.read();
    const second = reader.read();
    await time.advanceAsync(4321);
    await second;
    expect(counter.reads).toBe(2);
    await reader.cancel();
    expect(waits.active).toBe(0);
    await time.advanceAsync(60_000);
    expect(counter.reads).toBe(2);
  });

  test("over a real socket: the stream's timer stops when the client disconnects", async () => {
    const { time, waits, setTimer } = pacedTime(4321);
    const gw = await gateway(undefined, setTimer);
    server = await serveBun({ fetch: gw.fetch, port: 0, hostname: "127.0.0.1" });
    const counter = countReads(gw);
    const client = new AbortController();
    const res = await fetch(`http://127.0.0.1:${server.port}/dashboard/events?interval=4321`, {
      signal: client.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    const second = reader.read();
    await time.advanceAsync(4321);
    await second;
    await waitFor(() => waits.active === 1); // the server pulled again: the stream waits for the third
    client.abort();
    await reader.read().catch(() => undefined);
    await waitFor(() => waits.active === 0); // the server noticed the closed socket and cancelled
    await time.advanceAsync(60_000);
    expect(counter.reads).toBe(2);
  });

  test("eventStream: cancel or abort clears the pending timer; next() is not called again", async () => {
    for (const how of ["cancel", "abort"] as const) {
      let calls = 0;
      const time = new FakeTime();
      const abort = new AbortController();
      const body = eventStream({
        interval: 50,
        next: async () => `data: ${++calls}\n\n`,
        signal: abort.signal,
        setTimer: time.setTimer,
      });
      const reader = body.getReader();
      await reader.read();
      const pending = reader.read(); // the stream now waits on its timer
      if (how === "cancel") await reader.cancel();
      else abort.abort();
      const end = await pending;
      if (how === "abort") expect(end.done).toBe(true);
      expect(time.pending).toBe(0);
      await time.advanceAsync(1_000);
      expect(calls).toBe(1);
    }
  });
});
