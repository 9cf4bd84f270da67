import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";

import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { concurrencyPicker, objective } from "../helpers/config.ts";
import { type Stack, startStack, waitFor } from "../helpers/stack.ts";
import { POOL, REWRITE } from "./canary-config.ts";
import { CHROMIUM, launchChromium, chromiumRuns as runs } from "./chromium.ts";

/**
 * The dashboard in a real headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core) while traffic flows through a gateway in front of three simulated
 * pods: the numbers move, they agree with /metrics, client-named text stays text, and
 * the page's event stream ends with the page. Saves a 1280x900 screenshot: to the temp
 * folder, or over docs/dashboard.png (the README's picture) with UPDATE_SCREENSHOT=1.
 */

const SCREENSHOT = process.env["UPDATE_SCREENSHOT"]
  ? fileURLToPath(new URL("../../docs/dashboard.png", import.meta.url))
  : join(tmpdir(), "inference-gateway-dashboard.png");
if (!runs)
  console.warn(
    `dashboard browser test skipped: ${CHROMIUM} is missing (apt-get install -y chromium; CI installs it and always runs this test)`,
  );

const OBJECTIVES = [
  objective("critical", 10, "vllm-pool"),
  objective("standard", 0, "vllm-pool"),
  objective("batch", -1, "vllm-pool"),
];
/** Flow control on; the pool counts as full at 5 requests in flight per endpoint, so queues form. */
const PICKER = concurrencyPicker(5, { flowControl: ["defaultRequestTTL: 30s"] });

/** Like a small vLLM at a quarter of real time: a few hundred ms per answer, a KV cache that fills. */
const pod = (model: string, loras: string[] = []) => ({
  model,
  loras,
  timeScale: 0.25,
  maxNumSeqs: 3,
  numGpuBlocks: 96,
  jitter: 0.3,
});

const XSS_TENANT = `<img src=x onerror="window.__xss=1">`;

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  if (!runs) return;
  [stack, browser] = await Promise.all([
    startStack({
      pods: [
        pod("facebook/opt-125m", ["sql-lora"]),
        pod("facebook/opt-125m", ["sql-lora"]),
        pod("facebook/opt-125m-canary"),
      ],
      settings: { dataLayer: { scrapeIntervalMs: 50 } },
      yaml: [POOL, REWRITE, ...OBJECTIVES, PICKER],
    }),
    launchChromium(),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

/** Background traffic, bounded in count and time; `stop()` waits for the last request. */
function traffic(url: string, opts: { workers: number; maxMs: number }) {
  let running = true;
  let sent = 0;
  const failures: string[] = [];
  const deadline = Date.now() + opts.maxMs;
  const models = ["opt-stable", "opt-stable", "opt-stable", "facebook/opt-125m", "sql-lora"];
  const objectives = ["critical", "standard", "standard", "batch"];
  const tenants = ["team-a", "team-b", "team-c", "search"];
  const worker = async (w: number) => {
    for (let i = 0; running && Date.now() < deadline && sent < 5000; i++) {
      const n = sent++;
      const model = n % 29 === 28 ? "no-such-model" : models[(n * 7 + w) % models.length]!;
      const words = 40 + ((n * 37) % 160);
      const res = fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-gateway-inference-objective": objectives[(n + w) % objectives.length]!,
          "x-gateway-inference-fairness-id": tenants[(w + i) % tenants.length]!,
        },
        body: JSON.stringify({
          model,
          stream: n % 5 !== 0,
          max_tokens: 8 + ((n * 13) % 24),
          messages: [
            { role: "user", content: `request ${n}: ${"lorem ipsum dolor sit amet ".repeat(words / 5)}` },
          ],
        }),
      });
      await res.then((r) => r.text()).catch((err: Error) => failures.push(err.message));
      await Bun.sleep((n * 17) % 40);
    }
  };
  const done = Promise.all(Array.from({ length: opts.workers }, (_, w) => worker(w)));
  return {
    sent: () => sent,
    failures,
    async stop() {
      running = false;
      await done;
    },
  };
}

/** The number an element starts with ("1,234 received" → 1234). */
const numberIn = async (page: Page, selector: string) =>
  Number.parseInt(((await page.locator(selector).first().textContent()) ?? "").replace(/,/g, ""), 10);

/** Sum of a metric's samples in Prometheus text. */
function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `))
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

test.skipIf(!runs)(
  "the dashboard moves with live traffic, agrees with /metrics, and shows client text as text",
  async () => {
    const t0 = performance.now();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console: ${m.text()}`);
    });
    page.on("request", (r) => {
      if (!r.url().startsWith(stack.url)) problems.push(`external request: ${r.url()}`);
    });

    // Live first, then traffic: 16 workers on a busy machine could keep the page from
    // connecting until the traffic's time was nearly over.
    await open(page, problems);
    const load = traffic(stack.url, { workers: 16, maxMs: 30_000 });
    try {
      await watch(page, load);
    } finally {
      await load.stop();
    }
    expect(load.failures).toEqual([]);

    // Closing the page ends its event stream: the gateway stops computing snapshots.
    const recent = stack.gateway.deps.recent;
    const since = recent.since.bind(recent);
    let reads = 0;
    recent.since = (seq) => {
      reads++;
      return since(seq);
    };
    await page.close();
    await Bun.sleep(400);
    const settled = reads;
    await Bun.sleep(600);
    expect(reads).toBe(settled);
    expect(problems).toEqual([]);
    console.log(`dashboard browser test: ${Math.round(performance.now() - t0)} ms, ${load.sent()} requests`);
  },
  60_000,
);

async function open(page: Page, problems: string[]) {
  await page.goto(`${stack.url}/dashboard?interval=250&window=15`);
  await page
    .waitForFunction(() => document.getElementById("conn")?.classList.contains("live"), null, {
      timeout: 10_000,
    })
    .catch((err: Error) => {
      throw new Error(`the page never went live: ${err.message}\n${problems.join("\n")}`);
    });
}

async function watch(page: Page, load: ReturnType<typeof traffic>) {
  const trafficStart = Date.now();
  await waitFor(async () => (await page.getByTestId("endpoint").count()) === 3);

  await waitFor(async () => (await numberIn(page, "[data-testid=total-requests]")) > 0);
  const before = {
    total: await numberIn(page, "[data-testid=total-requests]"),
    recent: await numberIn(page, "[data-testid=recent-count]"),
  };
  await Bun.sleep(1500);
  const after = {
    total: await numberIn(page, "[data-testid=total-requests]"),
    recent: await numberIn(page, "[data-testid=recent-count]"),
  };
  expect(after.total).toBeGreaterThan(before.total);
  expect(after.recent).toBeGreaterThan(before.recent);
  expect(await page.getByTestId("request-row").count()).toBeGreaterThan(10);

  // Rewrite splits appear as they happen: the alias, with both targets.
  const split = page.getByTestId("rewrite").filter({ hasText: "opt-stable" });
  await waitFor(async () => (await split.textContent())?.includes("facebook/opt-125m-canary") ?? false);
  expect(await split.textContent()).toContain("facebook/opt-125m");

  // Some seconds of traffic so the TTFT chart (15 s wide here) and the sparkline have data.
  await Bun.sleep(Math.max(0, trafficStart + 10_000 - Date.now()));
  expect(await page.locator("#stat-ttft").textContent()).toMatch(/\d.* \/ .*\d/);
  mkdirSync(dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT });

  await load.stop();
  // A fairness id is client text: it must show literally, never be parsed as HTML.
  const xss = await fetch(`${stack.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-gateway-inference-fairness-id": XSS_TENANT },
    body: JSON.stringify({
      model: "facebook/opt-125m",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 2,
    }),
  });
  expect(xss.status).toBe(200);
  await xss.text();
  await waitFor(
    () => stack.gateway.deps.inflight.total() === 0 && stack.gateway.deps.flow!.stats().queued === 0,
  );
  const metrics = await (await fetch(`${stack.url}/metrics`)).text();
  const total = metricSum(metrics, "inference_objective_request_total");
  expect(total).toBe(load.sent() + 1);
  // The page catches up with /metrics within a few events.
  await waitFor(async () => (await numberIn(page, "[data-testid=total-requests]")) === total);
  expect(await numberIn(page, "[data-testid=endpoint-count]")).toBe(
    metricSum(metrics, "inference_pool_ready_pods"),
  );
  expect(await numberIn(page, "#stat-errors")).toBe(
    metricSum(metrics, "inference_objective_request_error_total"),
  );

  const newest = page.getByTestId("request-row").first();
  expect(await newest.locator("td.mono").textContent()).toBe(XSS_TENANT);
  expect(await page.locator("#recent img").count()).toBe(0);
  expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
}
