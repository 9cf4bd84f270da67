/**
 * The start-up warm-up (src/runtime/warm-up.ts): synthetic requests through a throwaway
 * gateway on real loopback sockets, with the Bun entry's own server and pod client. It must
 * answer every kind of request it sends, leave nothing listening or running, touch nothing of
 * a real gateway, and never stop a start-up.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/load.ts";
import { createGateway } from "../../src/gateway.ts";
import { createLogger, silentLogger } from "../../src/log.ts";
import { bunUpstreamFetch } from "../../src/runtime/bun-wire.ts";
import { parseCli } from "../../src/runtime/cli.ts";
import { serveBun } from "../../src/runtime/serve-bun.ts";
import type { RunningServer, ServeFn } from "../../src/runtime/server.ts";
import { warmUp } from "../../src/runtime/warm-up.ts";
import { WARM_MODEL, warmUpPod } from "../../src/runtime/warm-up-pod.ts";
import { ENTRIES, onePodConfig, printedPort, startChild, tempDir, waitFor } from "./harness.ts";

/** serveBun, remembering every server it started and whether it was closed. */
function trackedServe() {
  const started: { server: RunningServer; closed: boolean }[] = [];
  const serve: ServeFn = async (o) => {
    const server = await serveBun(o);
    const entry = { server, closed: false };
    started.push(entry);
    return {
      ...server,
      close: async (c) => {
        entry.closed = true;
        await server.close(c);
      },
    };
  };
  return { serve, started };
}

const upstream = bunUpstreamFetch({})!;
afterAll(() => (upstream as unknown as { close(): void }).close());

describe("warmUp", () => {
  test("answers every kind of request it sends, on the real pod client, then closes everything", async () => {
    const { serve, started } = trackedServe();
    const seen = new Map<string, { ok: number; types: Set<string> }>();
    const result = await warmUp({
      serve,
      budgetMs: 400,
      upstream,
      directStreams: true,
      logger: silentLogger(),
      client: async (url, init) => {
        const res = await fetch(url, init);
        const body = String(new TextDecoder().decode(init.body as Uint8Array));
        const kind = `${new URL(url).pathname} ${body.includes('"stream":true') ? "stream" : "json"} ${body.length > 10_000 ? "long" : "short"}`;
        const s = seen.get(kind) ?? { ok: 0, types: new Set<string>() };
        if (res.ok) s.ok++;
        s.types.add(res.headers.get("content-type") ?? "");
        seen.set(kind, s);
        return res;
      },
    });
    expect(result.failed).toBe(0);
    expect(result.requests).toBeGreaterThan(16);
    expect([...seen.keys()].sort()).toEqual([
      "/v1/chat/completions json long",
      "/v1/chat/completions json short",
      "/v1/chat/completions stream short",
      "/v1/completions json short",
      "/v1/completions stream short",
    ]);
    for (const [kind, s] of seen) {
      expect(s.ok).toBeGreaterThan(0);
      expect([...s.types]).toEqual([kind.includes("stream") ? "text/event-stream" : "application/json"]);
    }
    // Four pods and the throwaway gateway's listener, all closed.
    expect(started.length).toBe(5);
    expect(started.every((s) => s.closed)).toBe(true);
    for (const s of started)
      expect(await fetch(`http://127.0.0.1:${s.server.port}/health`).catch(() => "refused")).toBe("refused");
  });

  test("touches nothing of a real gateway: its metrics, its log and its pods see no request", async () => {
    const lines: string[] = [];
    const podCalls: string[] = [];
    const pod = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (req) => {
        podCalls.push(new URL(req.url).pathname);
        return warmUpPod()(req);
      },
    });
    const real = createGateway({
      config: parseConfig(
        `apiVersion: gateway.inference.dev/v1alpha1
kind: GatewayConfig
dataLayer: { scrapeIntervalMs: 600000, modelsRefreshMs: 600000 }
endpoints:
  - { name: real, address: "127.0.0.1:${pod.port}", models: [${WARM_MODEL}] }
`,
        "real.yaml",
      ),
      logger: createLogger("info", (l) => lines.push(l)),
      fetch: upstream,
    });
    try {
      const result = await warmUp({ serve: serveBun, budgetMs: 200, upstream, logger: silentLogger() });
      expect(result.requests).toBeGreaterThan(0);
      const counted = async () =>
        (await (await real.fetch(new Request("http://gw/metrics"))).text())
          .split("\n")
          .filter((l) => l.startsWith("inference_objective_request_total{"));
      expect(await counted()).toEqual([]);
      expect(lines.filter((l) => l.includes(WARM_MODEL))).toEqual([]);
      expect(podCalls).toEqual([]);
      // The control: one request to the real gateway is counted, logged and reaches its pod.
      const res = await real.fetch(
        new Request("http://gw/v1/chat/completions", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: WARM_MODEL, messages: [{ role: "user", content: "hi" }] }),
        }),
      );
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      expect((await counted()).map((l) => l.slice(l.lastIndexOf(" ") + 1))).toEqual(["1"]);
      expect(lines.filter((l) => l.includes(WARM_MODEL)).length).toBe(1);
      expect(podCalls).toEqual(["/v1/chat/completions"]);
    } finally {
      await real.stop();
      pod.stop(true);
    }
  });

  test("a request that never ends is abandoned after the grace: start-up is never held", async () => {
    const { serve, started } = trackedServe();
    const t0 = performance.now();
    const result = await warmUp({
      serve,
      budgetMs: 50,
      graceMs: 100,
      // Pod calls that never answer (the gateway waits up to its responseTimeoutMs, 10 min).
      upstream: () => new Promise<Response>(() => {}),
      logger: silentLogger(),
    });
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(result.requests).toBe(0);
    expect(result.failed).toBe(8); // each of the 8 loops' one request, abandoned
    expect(started.every((s) => s.closed)).toBe(true);
  });

  test("a budget of 0 starts nothing", async () => {
    const { serve, started } = trackedServe();
    expect(await warmUp({ serve, budgetMs: 0, logger: silentLogger() })).toEqual({
      requests: 0,
      failed: 0,
      ms: 0,
    });
    expect(started.length).toBe(0);
  });

  test("a server that cannot start is logged and start-up goes on", async () => {
    const warnings: string[] = [];
    const logger = { ...silentLogger(), warn: (msg: string) => warnings.push(msg) };
    const result = await warmUp({
      serve: async () => {
        throw new Error("no sockets here");
      },
      budgetMs: 100,
      logger,
    });
    expect(result.requests).toBe(0);
    expect(warnings).toEqual(["start-up warm-up failed; starting without it"]);
  });

  test("pods closed after the first ones started are still closed when a later one fails", async () => {
    const { serve: real, started } = trackedServe();
    let n = 0;
    const serve: ServeFn = (o) => (++n === 3 ? Promise.reject(new Error("port taken")) : real(o));
    await warmUp({ serve, budgetMs: 100, logger: silentLogger() });
    expect(started.length).toBe(2);
    expect(started.every((s) => s.closed)).toBe(true);
  });
});

describe("GATEWAY_WARMUP_MS", () => {
  test("is read as milliseconds, 0 to 60000", () => {
    expect(parseCli([], { GATEWAY_WARMUP_MS: "0" }).warmUpMs).toBe(0);
    expect(parseCli([], { GATEWAY_WARMUP_MS: "2500" }).warmUpMs).toBe(2500);
    expect(parseCli([], {}).warmUpMs).toBeUndefined();
    expect(() => parseCli([], { GATEWAY_WARMUP_MS: "soon" })).toThrow(
      "GATEWAY_WARMUP_MS: expected milliseconds from 0 to 60000, got 'soon'",
    );
    expect(() => parseCli([], { GATEWAY_WARMUP_MS: "-1" })).toThrow("GATEWAY_WARMUP_MS");
  });

  test("the config's warmUpMs is off unless set, and is checked", () => {
    const base = "apiVersion: gateway.inference.dev/v1alpha1\nkind: GatewayConfig\n";
    expect(parseConfig(base, "a.yaml").settings.warmUpMs).toBe(0);
    expect(parseConfig(`${base}warmUpMs: 1500\n`, "a.yaml").settings.warmUpMs).toBe(1500);
    expect(() => parseConfig(`${base}warmUpMs: -5\n`, "a.yaml")).toThrow("warmUpMs");
  });
});

describe.each(ENTRIES)("the $name entry", ({ name, command, startMs }) => {
  test("warms up before it listens, and every warm-up request is answered", async () => {
    const tmp = tempDir(`gw-warm-up-${name}-`);
    const pod = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: warmUpPod() });
    const config = onePodConfig(tmp.dir, "gw.yaml", `127.0.0.1:${pod.port}`);
    const child = startChild([...command, "--config", config, "--port", "0", "--host", "127.0.0.1"], {
      GATEWAY_WARMUP_MS: "300",
    });
    try {
      // The log is written in batches (the banner at once): wait for the listening line itself.
      await waitFor(
        "the gateway's listening line",
        () =>
          printedPort(child.output()) && child.output().includes('"msg":"gateway listening"')
            ? true
            : undefined,
        { timeoutMs: startMs, child },
      );
      const lines = child.output().split("\n");
      const warmed = lines.findIndex((l) => l.includes('"msg":"start-up warm-up done"'));
      const listening = lines.findIndex((l) => l.includes('"msg":"gateway listening"'));
      expect(warmed).toBeGreaterThanOrEqual(0);
      expect(warmed).toBeLessThan(listening);
      const fields = JSON.parse(lines[warmed]!) as { requests: number; failed: number; ms: number };
      expect(fields.requests).toBeGreaterThan(0);
      expect(fields.failed).toBe(0);
      expect(fields.ms).toBeGreaterThanOrEqual(300);
    } finally {
      await child.stop();
      pod.stop(true);
      tmp.remove();
    }
  }, 60_000);
});
