import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { type Stack, waitFor } from "../helpers/stack.ts";
import { launchChromium, chromiumRuns as runs } from "./chromium.ts";
import { measureLayout } from "./layout.ts";
import { rewrite } from "./pools-config.ts";
import { type PoolSpec, startPools } from "./pools-stack.ts";

/**
 * The dashboard with many pools in a real headless Chromium (issue 17 item 1): a gateway in
 * front of simulated pods on loopback, each pod joining its pool by its labels. Every pool
 * gets a card; a card selects the pool whose endpoints, saturation, flow control and rewrite
 * splits show, and `?pool=` opens the page on one. Ten pools fit a phone's width.
 * Saves screenshots to the temp folder for a look.
 */

let browser: Browser;
beforeAll(async () => {
  if (runs) browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

/** A bounded burst: `count` requests spread over `models`, a few at a time. */
async function traffic(url: string, models: string[], count: number): Promise<void> {
  for (let n = 0; n < count; n += 6)
    await Promise.all(
      Array.from({ length: Math.min(6, count - n) }, async (_, k) => {
        const res = await fetch(`${url}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            model: models[(n + k) % models.length],
            max_tokens: 4,
            messages: [{ role: "user", content: `request ${n + k}` }],
          }),
        });
        expect(res.status).toBe(200);
        await res.text();
      }),
    );
}

async function open(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById("conn")?.classList.contains("live"), null, {
    timeout: 10_000,
  });
}

const texts = (page: Page, selector: string) => page.locator(selector).allTextContents();
const endpointNames = async (page: Page) =>
  (await texts(page, "[data-testid=endpoint] .title > span:first-child")).sort();
const pressed = (page: Page) =>
  page.locator("[data-testid=pool][aria-pressed=true]").getAttribute("data-pool");

describe.skipIf(!runs)("the dashboard with two pools", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startPools(
      [
        { name: "chat", model: "facebook/opt-125m", pods: 2, flowControl: true },
        { name: "embed", model: "Qwen/Qwen3-0.6B", pods: 1 },
      ],
      [
        rewrite("chat-stable", "chat", "chat-stable", ["facebook/opt-125m"]),
        rewrite("embed-stable", "embed", "embed-stable", ["Qwen/Qwen3-0.6B"]),
      ],
    );
    await traffic(stack.url, ["chat-stable", "embed-stable", "facebook/opt-125m", "Qwen/Qwen3-0.6B"], 24);
  });
  afterAll(async () => {
    await stack?.close();
  });

  test("a card per pool; the selected pool's endpoints, flow control and rewrites; ?pool= opens one", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
    await open(page, `${stack.url}/dashboard?interval=200`);

    await waitFor(async () => (await page.getByTestId("pool").count()) === 2);
    expect(await texts(page, "[data-testid=pool] .pc-name")).toEqual(["chat", "embed"]);
    expect(await page.locator("[data-testid=pool][data-pool=embed]").getAttribute("title")).toBe(
      "embed · serves Qwen/Qwen3-0.6B",
    );
    // Both pools at a glance: ready pods of each, once their pods are scraped.
    await waitFor(async () => {
      const subs = await texts(page, "[data-testid=pool] .pc-ready");
      return subs[0]?.startsWith("2/2 ready") === true && subs[1]?.startsWith("1/1 ready") === true;
    });
    // Requests finished per pool (12 each), told apart by the endpoint that served them.
    expect(await texts(page, "[data-testid=pool] .pc-load")).toEqual([
      "0 queued · 12 req",
      "no flow control · 12 req",
    ]);
    expect(await page.locator("#stat-endpoints").textContent()).toBe("3");
    expect(await page.locator("#stat-endpoints-sub").textContent()).toBe("2 pools · all fresh");

    // The first pool is selected: its endpoints, its flow control, its rewrites only.
    expect(await pressed(page)).toBe("chat");
    expect(await page.locator("#pool").textContent()).toBe("chat");
    expect(await endpointNames(page)).toEqual(["chat-0", "chat-1"]);
    expect(await page.locator("#flow-chip").textContent()).toBe("flow control on");
    expect(await texts(page, "[data-testid=rewrite] .name")).toEqual(["chat-stable"]);
    // Recent requests name their pool.
    const pools = new Set(await texts(page, "[data-testid=request-row] td.pool-col"));
    expect([...pools].sort()).toEqual(["chat", "embed"]);
    await page.screenshot({ path: join(tmpdir(), "inference-gateway-dashboard-pools.png") });

    await page.locator("[data-testid=pool][data-pool=embed]").click();
    expect(await pressed(page)).toBe("embed");
    expect(await page.locator("#pool").textContent()).toBe("embed");
    expect(await endpointNames(page)).toEqual(["embed-0"]);
    expect(await page.locator("#flow-chip").textContent()).toBe("flow control off");
    expect(await texts(page, "[data-testid=rewrite] .name")).toEqual(["embed-stable"]);
    expect(new URL(page.url()).searchParams.get("pool")).toBe("embed");
    // Still on it after the next events.
    const updated = await page.locator("#updated").textContent();
    await waitFor(async () => (await page.locator("#updated").textContent()) !== updated);
    expect(await endpointNames(page)).toEqual(["embed-0"]);

    // A link (or a reload) with ?pool= opens on that pool.
    await page.reload();
    await page.waitForFunction(() => document.getElementById("conn")?.classList.contains("live"));
    await waitFor(async () => (await pressed(page)) === "embed");
    expect(await endpointNames(page)).toEqual(["embed-0"]);
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);
});

describe.skipIf(!runs)("the dashboard with ten pools", () => {
  let stack: Stack;
  const specs: PoolSpec[] = Array.from({ length: 10 }, (_, i) => ({
    name: i === 9 ? "a-pool-with-a-rather-long-name-for-a-phone" : `pool-${i}`,
    model: `model-${i}`,
    pods: 1,
    flowControl: i % 2 === 0,
  }));
  beforeAll(async () => {
    stack = await startPools(specs);
    await traffic(
      stack.url,
      specs.map((s) => s.model),
      20,
    );
  });
  afterAll(async () => {
    await stack?.close();
  });

  for (const width of [390, 1280])
    test(`at ${width} px every pool has a card, nothing scrolls sideways or overlaps, a card selects its pool`, async () => {
      const page = await browser.newPage({ viewport: { width, height: 844 }, deviceScaleFactor: 1 });
      await open(page, `${stack.url}/dashboard?interval=200`);
      await waitFor(async () => (await page.getByTestId("pool").count()) === 10);
      await waitFor(async () => (await page.getByTestId("request-row").count()) >= 20);
      await page.screenshot({
        path: join(tmpdir(), `inference-gateway-dashboard-10-pools-${width}.png`),
        fullPage: true,
      });
      const layout = await measureLayout(page);
      expect(layout.scrollWidth).toBeLessThanOrEqual(width);
      expect(layout.overlaps).toEqual([]);
      expect(layout.outside).toEqual([]);

      const last = specs[9]!.name;
      await page.locator(`[data-testid=pool][data-pool="${last}"]`).click();
      expect(await pressed(page)).toBe(last);
      expect(await endpointNames(page)).toEqual([`${last}-0`]);
      const after = await measureLayout(page);
      expect(after.scrollWidth).toBeLessThanOrEqual(width);
      expect(after.overlaps).toEqual([]);
      await page.close();
    }, 60_000);
});
