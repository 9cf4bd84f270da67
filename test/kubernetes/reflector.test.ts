import { describe, expect, test } from "bun:test";
import { createApiClient, type FetchLike } from "../../src/kubernetes/api-client.ts";
import { type KubeObject, Reflector, type WatchTuning } from "../../src/kubernetes/reflector.ts";
import { createLogger } from "../../src/log.ts";
import { FakeTime } from "../helpers/fake-time.ts";
import { until } from "./helpers.ts";

/** A scripted API server: `watch(n, url)` answers the n-th watch; lists answer `listRv`. */
function scripted(watch: (n: number, url: URL) => Response, listRv = () => "10") {
  const calls: URL[] = [];
  let watches = 0;
  const fetch: FetchLike = async (raw) => {
    const url = new URL(raw);
    calls.push(url);
    if (url.searchParams.get("watch") === "1") return watch(watches++, url);
    return Response.json({ kind: "ThingList", metadata: { resourceVersion: listRv() }, items: [] });
  };
  return {
    fetch,
    lists: () => calls.filter((u) => !u.searchParams.has("watch")),
    watches: () => calls.filter((u) => u.searchParams.has("watch")),
  };
}

const lines = (...events: unknown[]) =>
  new Response(events.map((e) => (typeof e === "string" ? e : JSON.stringify(e))).join("\n") + "\n");
const thing = (name: string, rv: string): KubeObject => ({
  apiVersion: "v1",
  kind: "Thing",
  metadata: { name, resourceVersion: rv },
});
/** A watch that stays open until the client goes away. */
const hang = () => new Response(new ReadableStream({}));

function reflect(fetch: FetchLike, tuning: Partial<WatchTuning> = {}, random?: () => number) {
  const logs: { level: string; msg: string; error?: string }[] = [];
  const seen: string[][] = [];
  const r = new Reflector<string>({
    client: createApiClient(
      { server: "http://fake", tls: { rejectUnauthorized: true }, source: "test" },
      { fetch },
    ),
    path: "/api/v1/namespaces/ns/things",
    what: "things",
    kind: { apiVersion: "v1", kind: "Thing" },
    decode: (o) => o.metadata?.name,
    onChange: (items) => seen.push([...items.keys()]),
    logger: createLogger("debug", (l) => logs.push(JSON.parse(l))),
    tuning: { backoffMinMs: 10, backoffMaxMs: 100, ...tuning },
    ...(random ? { random } : {}),
  }).start();
  return { r, logs, seen };
}

describe("kubernetes reflector: failures", () => {
  test("a malformed line drops the stream; the re-watch resumes from the last good RV", async () => {
    const s = scripted((n) =>
      n === 0 ? lines({ type: "ADDED", object: thing("a", "11") }, "{not json") : hang(),
    );
    const { r, seen } = reflect(s.fetch);
    await until(() => s.watches().length === 2 || undefined, "a re-watch");
    expect(s.watches()[1]!.searchParams.get("resourceVersion")).toBe("11");
    expect(s.lists().length).toBe(1);
    expect(seen.at(-1)).toEqual(["a"]);
    await r.stop();
  });

  test("an ERROR event other than 410 backs off and re-watches from the RV, without a re-list", async () => {
    const s = scripted((n) =>
      n === 0
        ? lines({ type: "ERROR", object: { kind: "Status", code: 500, reason: "InternalError" } })
        : hang(),
    );
    const { r, logs } = reflect(s.fetch);
    await until(() => s.watches().length === 2 || undefined, "a re-watch");
    expect(s.watches()[1]!.searchParams.get("resourceVersion")).toBe("10");
    expect(s.lists().length).toBe(1);
    expect(logs.some((l) => l.level === "error" && String(l.error).includes("500 InternalError"))).toBe(true);
    await r.stop();
  });

  test("HTTP 410 on the watch request re-lists and replaces the items", async () => {
    let rv = 10;
    const s = scripted(
      (n) =>
        n === 0
          ? lines({ type: "ADDED", object: thing("old", "11") })
          : n === 1
            ? Response.json({ code: 410 }, { status: 410 })
            : hang(),
      () => String(rv++),
    );
    const { r, seen } = reflect(s.fetch);
    await until(() => s.lists().length === 2 || undefined, "a re-list");
    await until(() => s.watches().length === 3 || undefined, "a watch from the new list");
    expect(s.watches()[2]!.searchParams.get("resourceVersion")).toBe("11");
    expect(seen.at(-1)).toEqual([]); // "old" is gone: the list replaced the state
    await r.stop();
  });

  test("streams that end at once do not make the client spin: re-watches back off 20, 40, 80, 160, 200 ms", async () => {
    const time = new FakeTime();
    const waits: number[] = []; // back-off waits armed (list and watch deadlines are 30 s and more)
    const setTimer: typeof time.setTimer = (fn, ms) => {
      if (ms < 10_000) waits.push(ms);
      return time.setTimer(fn, ms);
    };
    const s = scripted(() => new Response(""));
    // random = 1: the top of each jitter band, so every wait is exact.
    const { r } = reflect(s.fetch, { backoffMinMs: 20, backoffMaxMs: 200, setTimer }, () => 1);
    await until(() => s.watches().length === 1 || undefined, "the first watch");
    for (const [n, wait] of [
      [1, 20],
      [2, 40],
      [3, 80],
      [4, 160],
      [5, 200],
      [6, 200],
    ] as const) {
      await until(() => waits.length === n || undefined, `back-off ${n} to be armed`);
      expect(waits[n - 1]).toBe(wait);
      await time.advanceAsync(wait - 1);
      expect(s.watches().length).toBe(n); // no re-watch before the back-off ends
      await time.advanceAsync(1);
      await until(() => s.watches().length === n + 1 || undefined, `re-watch ${n + 1}`);
    }
    await r.stop();
    expect(time.pending).toBe(0);
  });

  test("stop() during a long backoff returns without waiting it out, leaving no timer", async () => {
    const time = new FakeTime();
    const s = scripted(() => {
      throw new TypeError("connect ECONNREFUSED");
    });
    const { r } = reflect(s.fetch, { backoffMinMs: 60_000, backoffMaxMs: 60_000, setTimer: time.setTimer });
    await until(() => s.watches().length === 1 || undefined, "the first watch attempt");
    await until(() => time.pending === 1 || undefined, "the back-off to be armed");
    await r.stop(); // time never moves: a wait that ignored stop() would hang here
    expect(time.pending).toBe(0);
    expect(s.watches().length).toBe(1);
  });

  test("an expired continue token (410 on a later page) restarts the list from the first page", async () => {
    let lists = 0;
    const pages: URL[] = [];
    const fetch: FetchLike = async (raw) => {
      const url = new URL(raw);
      if (url.searchParams.get("watch") === "1") return hang();
      pages.push(url);
      lists++;
      if (!url.searchParams.has("continue")) {
        return Response.json({
          metadata: { resourceVersion: String(10 + lists), continue: "tok" },
          items: [thing("a", "5")],
        });
      }
      if (lists === 2)
        return Response.json({ kind: "Status", code: 410, reason: "Expired" }, { status: 410 });
      return Response.json({ metadata: { resourceVersion: "13" }, items: [thing("b", "6")] });
    };
    const { r, seen } = reflect(fetch);
    await r.synced;
    expect(pages.map((u) => u.searchParams.get("continue"))).toEqual([null, "tok", null, "tok"]);
    expect(seen.at(-1)).toEqual(["a", "b"]);
    expect(r.resourceVersion).toBe("13");
    await r.stop();
  });
});
