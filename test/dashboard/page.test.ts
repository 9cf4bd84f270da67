import { describe, expect, test } from "bun:test";
import { sha256Hex } from "../../src/auth/keys.ts";
import { createGateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { dashboardScript } from "../../src/observability/page/index.ts";
import { testConfig } from "../helpers/config.ts";
import { fakeUpstream } from "../helpers/fake-upstream.ts";

const ENDPOINTS = [{ name: "a", address: "10.0.0.1:8000", models: ["m"] }];

async function gateway(metricsKey?: string) {
  const auth = metricsKey ? { auth: { metricsKeys: [await sha256Hex(metricsKey)] } } : {};
  const config = testConfig({ endpoints: ENDPOINTS, ...auth });
  return createGateway({ config, fetch: fakeUpstream().fetch, logger: silentLogger() });
}

const get = (path: string, headers: Record<string, string> = {}) =>
  new Request(`http://gw${path}`, { headers });

describe("GET /dashboard", () => {
  test("one self-contained HTML page: no external URL anywhere, inline CSS and JS only", async () => {
    const res = await (await gateway()).fetch(get("/dashboard"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await res.text();
    expect(html).toStartWith("<!doctype html>");
    // Works offline: nothing to fetch from another host (no CDN, no fonts, not even a namespace URL).
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/@import|@font-face|<link[^>]+stylesheet|<script[^>]+src=/i);
    for (const [, url] of html.matchAll(/\b(?:src|href)\s*=\s*["']([^"']*)["']/gi)) {
      expect(url!.startsWith("data:") || !/^[a-z]+:|^\/\//i.test(url!)).toBe(true);
    }
    for (const [, url] of html.matchAll(/url\(\s*["']?([^"')]*)/gi)) expect(url).toStartWith("data:");
    // The panels the client script fills in are there.
    for (const id of ["endpoints", "gauge-arc", "flow", "rewrites", "ttft", "recent", "stat-requests"])
      expect(html).toContain(`id="${id}"`);
  });

  test("its Content-Security-Policy allows exactly its own inline script and style, and nothing remote", async () => {
    const res = await (await gateway()).fetch(get("/dashboard"));
    const csp = res.headers.get("content-security-policy")!;
    const html = await res.text();
    const script = /<script>([\s\S]*)<\/script>/.exec(html)![1]!;
    const style = /<style>([\s\S]*)<\/style>/.exec(html)![1]!;
    const b64 = async (text: string) =>
      Buffer.from(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))).toString("base64");
    expect(csp).toContain(`script-src 'sha256-${await b64(script)}'`);
    expect(csp).toContain(`style-src 'sha256-${await b64(style)}'`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
  });

  test("the inline script parses, uses no template literal and writes no client text as HTML", () => {
    expect(() => new Function(dashboardScript)).not.toThrow();
    expect(dashboardScript).not.toContain("innerHTML");
    expect(dashboardScript).not.toContain("insertAdjacentHTML");
    expect(dashboardScript).not.toContain("`");
  });

  test("protected like /metrics: a metrics key as a header or as ?key=", async () => {
    const gw = await gateway("sk-metrics");
    const missing = await gw.fetch(get("/dashboard"));
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("missing_api_key");
    expect((await gw.fetch(get("/dashboard", { authorization: "Bearer sk-nope" }))).status).toBe(401);
    expect((await gw.fetch(get("/dashboard?key=sk-nope"))).status).toBe(401);
    expect((await gw.fetch(get("/dashboard", { authorization: "Bearer sk-metrics" }))).status).toBe(200);
    expect((await gw.fetch(get("/dashboard", { "x-api-key": "sk-metrics" }))).status).toBe(200);
    expect((await gw.fetch(get("/dashboard?key=sk-metrics"))).status).toBe(200);
    // A header, when sent, is what counts (a stale ?key= in a bookmark cannot override it).
    expect(
      (await gw.fetch(get("/dashboard?key=sk-metrics", { authorization: "Bearer sk-nope" }))).status,
    ).toBe(401);
  });

  test("open when no metrics key is configured", async () => {
    expect((await (await gateway()).fetch(get("/dashboard"))).status).toBe(200);
  });
});
