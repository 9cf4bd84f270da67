import { afterAll, beforeAll, expect, test } from "bun:test";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { concurrencyPicker } from "../helpers/config.ts";
import { type Stack, startStack, waitFor } from "../helpers/stack.ts";
import { POOL, REWRITE } from "./canary-config.ts";
import { launchChromium, chromiumRuns as runs } from "./chromium.ts";
import { measureLayout } from "./layout.ts";

/**
 * The dashboard on a phone (390 px wide, an iPhone 12-15 in portrait) in a real headless
 * Chromium: the page must not scroll sideways, and no caption, column header or panel title
 * may overlap another (issue 15 item 7: it was 583 px wide, captions and headers collided).
 * Saves a screenshot to the temp folder for a look.
 */

const WIDTH = 390;
const SCREENSHOT = join(tmpdir(), "inference-gateway-dashboard-390.png");
const PICKER = concurrencyPicker(5, { flowControl: true });

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  if (!runs) return;
  const pod = (model: string) => ({ model, timeScale: 0.05, jitter: 0.3 });
  [stack, browser] = await Promise.all([
    startStack({
      pods: [pod("facebook/opt-125m"), pod("facebook/opt-125m"), pod("facebook/opt-125m-canary")],
      yaml: [POOL, REWRITE, PICKER],
    }),
    launchChromium(),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

/** A bounded burst of requests (long names included) so every panel has content. */
async function traffic(url: string): Promise<void> {
  const models = ["opt-stable", "facebook/opt-125m", "facebook/opt-125m-canary", "no-such-model"];
  await Promise.all(
    Array.from({ length: 24 }, async (_, n) => {
      const res = await fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-gateway-inference-fairness-id": n % 2 ? "a-rather-long-tenant-name-for-a-phone" : "team-a",
        },
        body: JSON.stringify({
          model: models[n % models.length],
          stream: n % 3 !== 0,
          max_tokens: 4 + (n % 8),
          messages: [{ role: "user", content: `request ${n} ${"lorem ipsum ".repeat(n)}` }],
        }),
      });
      await res.text();
    }),
  );
}

test.skipIf(!runs)(
  "at 390 px the page does not scroll sideways and no caption or header overlaps another",
  async () => {
    await traffic(stack.url);
    const page = await browser.newPage({ viewport: { width: WIDTH, height: 844 }, deviceScaleFactor: 1 });
    await page.goto(`${stack.url}/dashboard?interval=200`);
    await page.waitForFunction(() => document.getElementById("conn")?.classList.contains("live"), null, {
      timeout: 10_000,
    });
    await waitFor(async () => (await page.getByTestId("request-row").count()) >= 20);
    await waitFor(async () => (await page.getByTestId("endpoint").count()) === 3);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    const layout = await measureLayout(page);
    expect(layout.scrollWidth).toBeLessThanOrEqual(WIDTH);
    expect(layout.overlaps).toEqual([]);
    expect(layout.outside).toEqual([]);
    // One pool: no pool cards, no pool column, no pool tags (the header names the pool).
    expect(await page.locator("#pools-panel").isHidden()).toBe(true);
    expect(await page.locator("th.pool-col").isHidden()).toBe(true);
    expect(await page.locator("#pool").textContent()).toBe("vllm-pool");
    await page.close();
  },
  60_000,
);
