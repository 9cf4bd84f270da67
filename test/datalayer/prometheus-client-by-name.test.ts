import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { systemClock } from "../../src/clock.ts";
import { BUILTIN_ENGINES } from "../../src/datalayer/engines.ts";
import { createScraper, type FetchLike } from "../../src/datalayer/scraper.ts";
import type { MetricsSnapshot } from "../../src/endpoints/types.ts";

/**
 * Asking by name against the real thing: Debian's python3-prometheus-client serving vLLM's
 * gauges (test/helpers/prometheus-client-pod.py), once from the default registry (answers
 * `name[]` with those samples only) and once from a multiprocess registry (answers it with
 * an empty page). Runs where /usr/bin/python3 imports prometheus_client, and always in CI
 * (.ci/run installs it: apt-get install -y python3-prometheus-client).
 */
const PYTHON = "/usr/bin/python3";
const available = spawnSync(PYTHON, ["-c", "import prometheus_client"]).status === 0;
const runs = available || Boolean(process.env["CI"]);
if (!runs)
  console.warn(
    "prometheus_client test skipped: /usr/bin/python3 cannot import prometheus_client (apt-get install -y python3-prometheus-client; CI installs it and always runs this test)",
  );

let pod: ReturnType<typeof Bun.spawn> | undefined;
let ports: { single: number; multi: number } = { single: 0, multi: 0 };

beforeAll(async () => {
  if (!runs) return;
  if (!available)
    throw new Error(
      `${PYTHON} cannot import prometheus_client in CI: .ci/run installs python3-prometheus-client`,
    );
  pod = Bun.spawn([PYTHON, fileURLToPath(new URL("../helpers/prometheus-client-pod.py", import.meta.url))], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = (pod.stdout as ReadableStream<Uint8Array>).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("prometheus_client pod exited before printing its ports");
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  ports = JSON.parse(text.slice(0, text.indexOf("\n")));
});

afterAll(() => {
  (pod?.stdin as { end(): void } | undefined)?.end();
  pod?.kill();
});

describe.skipIf(!runs)("scraper against prometheus_client", () => {
  test("the default registry is asked by name (a few hundred bytes); the multiprocess one in full", async () => {
    const sizes: { url: string; bytes: number }[] = [];
    const fetchAndMeasure: FetchLike = async (url, init) => {
      const res = await fetch(url, init);
      const body = await res.arrayBuffer();
      sizes.push({ url, bytes: body.byteLength });
      return new Response(body, { status: res.status, headers: res.headers });
    };
    const snapshots = new Map<string, MetricsSnapshot>();
    const errors: string[] = [];
    const scraper = createScraper({
      fetch: fetchAndMeasure,
      clock: systemClock,
      timers: false,
      byName: true,
      engines: BUILTIN_ENGINES,
      onSnapshot: (name, s) => snapshots.set(name, s),
      onError: (name, err) => errors.push(`${name}: ${String(err)}`),
    });
    const url = (port: number) => `http://127.0.0.1:${port}/metrics`;
    scraper.setTargets([
      { name: "single", url: url(ports.single), engine: "vllm" },
      { name: "multi", url: url(ports.multi), engine: "vllm" },
    ]);
    for (let i = 0; i < 3; i++) await scraper.scrapeNow();
    scraper.stop();
    expect(errors).toEqual([]);
    for (const name of ["single", "multi"])
      expect(snapshots.get(name)).toMatchObject({
        runningRequests: 5,
        waitingQueueSize: 2,
        kvCacheUsage: 0.375,
      });
    const of = (port: number) => sizes.filter((s) => s.url.startsWith(url(port)));
    const byName = (s: { url: string }) => s.url.includes("name%5B%5D=");
    // single: in full first, then by name only, a small page against ~25 KB.
    expect(of(ports.single).map(byName)).toEqual([false, true, true]);
    const [full, named] = of(ports.single);
    expect(named!.bytes).toBeLessThan(1000);
    expect(full!.bytes).toBeGreaterThan(10 * named!.bytes);
    // multi: its answer by name is empty, so that scrape and the later ones ask in full.
    expect(of(ports.multi).map(byName)).toEqual([false, true, false, false]);
    expect(of(ports.multi)[1]!.bytes).toBe(0);
  });
});
