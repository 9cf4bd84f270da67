import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

// Issue 19, fourteenth pass: under Node, a background scrape reads its answer through the pod
// client's light GET (undici's dispatcher, no Headers and no Response): the same status, body
// and decoding as a fetch, aborts as a fetch does, and the scraper uses it instead of fetch.
test("Node's pod client's light GET: status, whole body, gzip decoded by the decoding wrapper, aborts; the scraper uses it", () => {
  const script = fileURLToPath(new URL("./undici-light-get-check.mts", import.meta.url));
  const run = spawnSync("node", ["--import", "tsx", script], { encoding: "utf8", timeout: 30_000 });
  expect(run.stderr).toBe("");
  const out = JSON.parse(run.stdout.trim().split("\n").at(-1)!);
  const page =
    "# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting 2\nvllm:num_requests_running 3\nvllm:kv_cache_usage_perc 0.25\n";
  expect(out.plain).toEqual({ status: 200, body: page, encoding: null });
  expect(out.chunked).toBe(page);
  expect(out.gzip).toEqual({ body: page, encoding: null });
  expect(out.rawGzip).toEqual({ gzipped: true, encoding: "gzip" });
  expect(out.missing).toEqual({ status: 404, body: "no such page" });
  expect(out.hung).toBe("TimeoutError");
  expect(out.hungClosed).toBe(true);
  // The same through the platform's AbortController (node-dispatch.ts's shared listener).
  expect(out.hung2).toBe("TimeoutError");
  expect(out.hung2Closed).toBe(true);
  expect(out.accept).toBe("text/plain");
  expect(out.scrape).toEqual({ snapshots: [{ waiting: 2, running: 3, kvUsage: 0.25 }], fetched: 0 });
}, 40_000);
