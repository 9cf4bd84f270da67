/**
 * Streaming client for the overhead benchmark (Bun; run with BUN_CONFIG_MAX_HTTP_REQUESTS
 * raised, since Bun's fetch runs at most 256 requests at once by default).
 *
 *   ttfb: closed loop at low concurrency; time to the first body chunk and to the end.
 *     bun stream-client.ts ttfb --url U --concurrency 2 --seconds 3 --chunks 20 --interval-ms 2
 *   hold: N concurrent slow streams opened together, held to the end; errors and timings.
 *     bun stream-client.ts hold --url U --streams 2000 --chunks 100 --interval-ms 100
 *
 * Prints one JSON line with the results.
 */
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: "string" },
    concurrency: { type: "string", default: "2" },
    seconds: { type: "string", default: "3" },
    streams: { type: "string", default: "2000" },
    chunks: { type: "string", default: "20" },
    "interval-ms": { type: "string", default: "2" },
    "ramp-ms": { type: "string", default: "1000" },
  },
});
const mode = positionals[0];
const url = values.url;
if (!url || (mode !== "ttfb" && mode !== "hold")) {
  console.error("usage: stream-client.ts ttfb|hold --url URL [options]");
  process.exit(2);
}
const chunks = Number(values.chunks);
const body = JSON.stringify({
  model: "m",
  stream: true,
  max_tokens: chunks,
  messages: [{ role: "user", content: "Hello, how are you today? Please answer briefly." }],
});
const headers = {
  "content-type": "application/json",
  "x-mock-chunks": String(chunks),
  "x-mock-interval-ms": values["interval-ms"],
};

interface One {
  ok: boolean;
  status: number;
  ttfbMs: number;
  totalMs: number;
  tokens: number;
  error?: string;
}

const MARKER = '"content":" tok"';
async function one(): Promise<One> {
  const start = performance.now();
  const decoder = new TextDecoder();
  let ttfb = Number.NaN;
  let tokens = 0;
  let buf = "";
  try {
    const res = await fetch(url!, { method: "POST", headers, body });
    if (!res.body)
      return { ok: false, status: res.status, ttfbMs: ttfb, totalMs: 0, tokens, error: "no body" };
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (Number.isNaN(ttfb)) ttfb = performance.now() - start;
      // Count token events, also when one is split across two chunks.
      buf += decoder.decode(value, { stream: true });
      for (let at = buf.indexOf(MARKER); at !== -1; at = buf.indexOf(MARKER)) {
        tokens++;
        buf = buf.slice(at + MARKER.length);
      }
      if (buf.length > MARKER.length) buf = buf.slice(-MARKER.length);
    }
    const totalMs = performance.now() - start;
    const ok = res.status === 200 && tokens === chunks;
    return {
      ok,
      status: res.status,
      ttfbMs: ttfb,
      totalMs,
      tokens,
      ...(ok ? {} : { error: `status ${res.status}, ${tokens}/${chunks} tokens` }),
    };
  } catch (err) {
    return {
      ok: false,
      status: 0,
      ttfbMs: ttfb,
      totalMs: performance.now() - start,
      tokens,
      error: (err as Error).message,
    };
  }
}

function quantile(xs: number[], q: number): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

function summary(results: One[], extra: Record<string, unknown>) {
  const ok = results.filter((r) => r.ok);
  const errors: Record<string, number> = {};
  for (const r of results) if (!r.ok) errors[r.error ?? "?"] = (errors[r.error ?? "?"] ?? 0) + 1;
  return {
    n: results.length,
    ok: ok.length,
    errors,
    ttfbP50: quantile(
      ok.map((r) => r.ttfbMs),
      0.5,
    ),
    ttfbP99: quantile(
      ok.map((r) => r.ttfbMs),
      0.99,
    ),
    totalP50: quantile(
      ok.map((r) => r.totalMs),
      0.5,
    ),
    totalP99: quantile(
      ok.map((r) => r.totalMs),
      0.99,
    ),
    totalMax: Math.max(0, ...ok.map((r) => r.totalMs)),
    ...extra,
  };
}

if (mode === "ttfb") {
  const end = performance.now() + Number(values.seconds) * 1000;
  const results: One[] = [];
  // One request first, not counted: connection set-up.
  await one();
  await Promise.all(
    Array.from({ length: Number(values.concurrency) }, async () => {
      while (performance.now() < end) results.push(await one());
    }),
  );
  console.log(JSON.stringify(summary(results, {})));
} else {
  const n = Number(values.streams);
  const rampMs = Number(values["ramp-ms"]);
  const started = performance.now();
  const pending: Promise<One>[] = [];
  for (let i = 0; i < n; i++) {
    // Spread the opens over rampMs, so the test is about holding streams, not a SYN flood.
    const due = started + (rampMs * i) / n;
    const wait = due - performance.now();
    if (wait > 1) await Bun.sleep(wait);
    pending.push(one());
  }
  const openedMs = performance.now() - started;
  const results = await Promise.all(pending);
  console.log(JSON.stringify(summary(results, { openedMs, wallMs: performance.now() - started })));
}
