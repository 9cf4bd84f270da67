/**
 * The environment `npm start` (package.json's "start") and the container image (Dockerfile's
 * ENV) give the Bun entry. Bun reads these variables when the process starts, before any of our
 * code runs, so they cannot be set from here: this is the one list the start script, the image
 * and the benchmarks follow (test/runtime/bun-start-env.test.ts keeps them in step).
 *
 * - `BUN_CONFIG_MAX_HTTP_REQUESTS`: Bun's fetch otherwise runs at most 256 requests at once per
 *   process and queues the rest without a word (only calls sent through fetch: hosted backends,
 *   `GATEWAY_UPSTREAM_CLIENT=fetch`).
 * - `MIMALLOC_PURGE_HOLES=0`: Bun's allocator (its mimalloc fork) otherwise gives back the free
 *   blocks inside pages still in use each time the JS thread goes idle (every 100 ms at most), and
 *   every such block taken again is a page fault. A paced stream idles the thread between chunks:
 *   3.6 faults a stream against 0.3 with holes kept, and ~25 % of a paced stream's CPU (issue 19,
 *   twenty-sixth pass; docs/overhead-streaming.md). Whole free pages are still given back, so RSS
 *   still comes down after a burst (idle 173 MiB against 118 after the same load; peaks +3-15 %).
 * - `MIMALLOC_PURGE_DELAY=2000`: whole free pages wait 2 s before they go back (Bun sets 100 ms).
 *   A busy gateway whose prefix index is full frees and retakes whole pages all the time; at
 *   100 ms each comes back as page faults (body30k with a full index: 1.6 faults a request
 *   against 0.3 with purging off). Memory freed still goes back, 2 s later (idle RSS the same).
 */
export const BUN_START_ENV: Readonly<Record<string, string>> = {
  BUN_CONFIG_MAX_HTTP_REQUESTS: "65535",
  MIMALLOC_PURGE_HOLES: "0",
  MIMALLOC_PURGE_DELAY: "2000",
};
