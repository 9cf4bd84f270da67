import { describe, expect, test } from "bun:test";
import { systemClock } from "../../src/clock.ts";
import { type ByNameState, wantedFamilies } from "../../src/datalayer/by-name.ts";
import { BUILTIN_ENGINES, wantedMetrics } from "../../src/datalayer/engines.ts";
import { createScraper, type FetchLike } from "../../src/datalayer/scraper.ts";
import type { MetricsSnapshot } from "../../src/endpoints/types.ts";

/**
 * Asking pods for the mapped metrics only (`name[]`, as Python's prometheus_client serves
 * them), checked per pod against its full page: how each kind of pod is asked, and that
 * the snapshots are right whatever the pod does with the parameters.
 */

const MODEL = 'model_name="m"';
/** A vLLM page: the three gauges the mapping reads, and a histogram it does not. */
function fullPage(waiting: number): string {
  const lines = [
    "# HELP vllm:num_requests_running Number of requests in model execution batches.",
    "# TYPE vllm:num_requests_running gauge",
    `vllm:num_requests_running{${MODEL}} 3.0`,
    "# HELP vllm:num_requests_waiting Number of requests waiting to be processed.",
    "# TYPE vllm:num_requests_waiting gauge",
    `vllm:num_requests_waiting{${MODEL}} ${waiting}.0`,
    "# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.",
    "# TYPE vllm:kv_cache_usage_perc gauge",
    `vllm:kv_cache_usage_perc{${MODEL}} 0.25`,
    "# TYPE vllm:e2e_request_latency_seconds histogram",
  ];
  for (const le of ["0.3", "0.5", "+Inf"])
    lines.push(`vllm:e2e_request_latency_seconds_bucket{le="${le}",${MODEL}} 4.0`);
  return `${lines.join("\n")}\n`;
}

/** The samples of `page` whose names the query's `name[]` lists (prometheus_client's restricted registry). */
function restricted(page: string, url: URL): string {
  const names = new Set(url.searchParams.getAll("name[]"));
  return page
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("#") && names.has(l.slice(0, l.search(/[{ ]/))))
    .map((l) => `${l}\n`)
    .join("");
}

type Kind = "honours" | "ignores" | "empty" | "refuses";

/** One fake pod per kind; `waiting` is what its gauge reads now; every URL asked is kept. */
function pods() {
  const asked: string[] = [];
  const kinds = new Map<string, Kind>();
  let waiting = 1;
  const fetch: FetchLike = async (raw) => {
    asked.push(raw);
    const url = new URL(raw);
    const kind = kinds.get(url.hostname)!;
    const byName = url.searchParams.has("name[]");
    const page = fullPage(waiting);
    if (!byName || kind === "ignores") return new Response(page);
    if (kind === "refuses") return new Response("no query here", { status: 404 });
    if (kind === "empty") return new Response(""); // a multiprocess registry: no names known
    return new Response(restricted(page, url));
  };
  return {
    fetch,
    asked,
    kinds,
    setWaiting: (n: number) => {
      waiting = n;
    },
    /** The URLs asked of `host` since `from`, by name ("name") or in full ("full"). */
    ways: (host: string, from = 0) =>
      asked
        .slice(from)
        .filter((u) => new URL(u).hostname === host)
        .map((u) => (u.includes("name%5B%5D=") ? "name" : "full")),
  };
}

function scraperFor(p: ReturnType<typeof pods>, hosts: Record<string, Kind>, byName = true) {
  const snapshots = new Map<string, MetricsSnapshot[]>();
  const errors: string[] = [];
  for (const [host, kind] of Object.entries(hosts)) p.kinds.set(host, kind);
  const scraper = createScraper({
    fetch: p.fetch,
    clock: systemClock,
    timers: false,
    byName,
    engines: BUILTIN_ENGINES,
    onSnapshot: (name, s) => snapshots.set(name, [...(snapshots.get(name) ?? []), s]),
    onError: (name, err) => errors.push(`${name}: ${String(err)}`),
  });
  scraper.setTargets(
    Object.keys(hosts).map((h) => ({ name: h, url: `http://${h}:8000/metrics`, engine: "vllm" })),
  );
  return { scraper, snapshots, errors };
}

describe("scraper: asking by name", () => {
  test("a pod is asked in full first, then by name while its answers hold what its page held", async () => {
    const p = pods();
    const { scraper, snapshots, errors } = scraperFor(p, { a: "honours" });
    await scraper.scrapeNow();
    expect(p.ways("a")).toEqual(["full"]);
    const mark = p.asked.length;
    p.setWaiting(7);
    await scraper.scrapeNow();
    await scraper.scrapeNow();
    expect(p.ways("a", mark)).toEqual(["name", "name"]);
    const query = new URL(p.asked.at(-1)!).searchParams.getAll("name[]");
    expect(query).toContain("vllm:num_requests_waiting");
    expect(query).toContain("vllm:kv_cache_usage_perc");
    expect(snapshots.get("a")!.map((s) => s.waitingQueueSize)).toEqual([1, 7, 7]);
    expect(snapshots.get("a")!.at(-1)).toMatchObject({ runningRequests: 3, kvCacheUsage: 0.25 });
    expect(errors).toEqual([]);
  });

  test("pods that answer a request by name with an empty page or an error are asked in full, with no failure", async () => {
    const p = pods();
    const { scraper, snapshots, errors } = scraperFor(p, { b: "empty", c: "refuses" });
    for (let i = 0; i < 3; i++) await scraper.scrapeNow();
    for (const host of ["b", "c"]) {
      expect(p.ways(host)).toEqual(["full", "name", "full", "full"]);
      expect(snapshots.get(host)!.map((s) => s.waitingQueueSize)).toEqual([1, 1, 1]);
    }
    expect(errors).toEqual([]);
  });

  test("a pod that ignores the parameters keeps being asked by name and read right", async () => {
    const p = pods();
    const { scraper, snapshots } = scraperFor(p, { d: "ignores" });
    await scraper.scrapeNow();
    await scraper.scrapeNow();
    expect(p.ways("d")).toEqual(["full", "name"]);
    expect(snapshots.get("d")!.at(-1)).toMatchObject({ waitingQueueSize: 1, runningRequests: 3 });
  });

  test("a pod whose answer by name loses a metric it had is asked in full at once, then checked again", async () => {
    const p = pods();
    const { scraper, snapshots, errors } = scraperFor(p, { e: "honours" });
    await scraper.scrapeNow();
    await scraper.scrapeNow();
    p.kinds.set("e", "empty"); // restarted with a multiprocess registry
    p.setWaiting(4);
    const mark = p.asked.length;
    await scraper.scrapeNow();
    expect(p.ways("e", mark)).toEqual(["name", "full"]);
    expect(snapshots.get("e")!.at(-1)!.waitingQueueSize).toBe(4);
    const later = p.asked.length;
    await scraper.scrapeNow();
    expect(p.ways("e", later)).toEqual(["full"]);
    expect(errors).toEqual([]);
  });

  test("off (dataLayer.scrapeByName: false), every pod is asked in full only", async () => {
    const p = pods();
    const { scraper, snapshots } = scraperFor(p, { f: "honours" }, false);
    await scraper.scrapeNow();
    await scraper.scrapeNow();
    expect(p.ways("f")).toEqual(["full", "full"]);
    expect(snapshots.get("f")!.length).toBe(2);
  });
});

describe("wantedFamilies: a pod asked in full is checked again", () => {
  test("after RECHECK_AFTER scrapes in full, the next scrape asks by name again", async () => {
    const p = pods();
    p.kinds.set("g", "refuses");
    const url = "http://g:8000/metrics";
    const wanted = wantedMetrics(BUILTIN_ENGINES["vllm"]!);
    const st: ByNameState = { byName: undefined };
    const read = async (u: string) => {
      const res = await p.fetch(u, {});
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return res.text();
    };
    const scrape = () => wantedFamilies(st, url, wanted, read, () => false, 3);
    await scrape(); // in full: what the page holds
    await scrape(); // by name, refused: in full, and not by name from then on
    expect(st.byName).toBe(false);
    p.kinds.set("g", "honours"); // e.g. the pod restarted with a single registry
    for (let i = 0; i < 3; i++) await scrape(); // in full; the third checks again
    const mark = p.asked.length;
    const got = await scrape();
    expect(p.ways("g", mark)).toEqual(["name"]);
    expect(got.get("vllm:num_requests_waiting")?.[0]?.value).toBe(1);
    expect(p.ways("g")).toEqual(["full", "name", "full", "full", "full", "full", "name"]);
  });
});
