/** Open-loop load for the benchmarks: Poisson arrivals, one request per arrival, bounded in time. */
import { type Random, seededRandom } from "../../src/clock.ts";

export interface Sample {
  tag: string;
  status: number;
  /** ms from send to first content token (streamed) or to the whole answer. */
  ttftMs: number;
  e2eMs: number;
  outputTokens: number;
}

export interface StreamSpec {
  tag: string;
  /** Requests per second (mean of the Poisson process). */
  rate: number;
  /** Builds the request body for the i-th request. */
  body: (i: number, random: Random) => Record<string, unknown>;
  headers?: Record<string, string>;
}

/** Sends one streamed chat request and times it. */
export async function timedChat(url: string, spec: StreamSpec, i: number, random: Random): Promise<Sample> {
  const start = performance.now();
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...spec.headers },
    body: JSON.stringify({ stream: true, ...spec.body(i, random) }),
  }).catch(() => undefined);
  if (!res) return { tag: spec.tag, status: 0, ttftMs: Number.NaN, e2eMs: Number.NaN, outputTokens: 0 };
  if (!res.ok || !res.body) {
    await res.text();
    const t = performance.now() - start;
    return { tag: spec.tag, status: res.status, ttftMs: t, e2eMs: t, outputTokens: 0 };
  }
  let ttft = Number.NaN;
  let tokens = 0;
  const decoder = new TextDecoder();
  for await (const chunk of res.body) {
    const text = decoder.decode(chunk, { stream: true });
    const n = text.split('"content":"').length - 1;
    if (n > 0) {
      if (Number.isNaN(ttft)) ttft = performance.now() - start;
      tokens += n;
    }
  }
  return {
    tag: spec.tag,
    status: res.status,
    ttftMs: ttft,
    e2eMs: performance.now() - start,
    outputTokens: tokens,
  };
}

/** Runs Poisson streams for `seconds`, then waits for every request sent to finish. */
export async function runOpenLoop(
  url: string,
  streams: StreamSpec[],
  seconds: number,
  seed = 1,
): Promise<Sample[]> {
  const random = seededRandom(seed);
  const pending: Promise<Sample>[] = [];
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    streams.map(async (spec) => {
      let i = 0;
      for (;;) {
        const gap = -Math.log(1 - random()) / spec.rate;
        await Bun.sleep(gap * 1000);
        if (performance.now() > end) return;
        pending.push(timedChat(url, spec, i++, random));
      }
    }),
  );
  return Promise.all(pending);
}

export function quantile(values: number[], q: number): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  return v[Math.min(v.length - 1, Math.floor(q * v.length))]!;
}

export const fmt = (ms: number) => (Number.isFinite(ms) ? ms.toFixed(0) : "-");
