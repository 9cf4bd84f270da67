/** Open-loop load for the benchmarks: Poisson arrivals, one request per arrival, bounded in time. */
import { type Random, seededRandom } from "../../src/clock.ts";

export interface Sample {
  tag: string;
  /** HTTP status; 0 = no response, or the stream broke or was cut off (see `error`). */
  status: number;
  /** ms from send to first content token (streamed) or to the whole answer; NaN = none arrived. */
  ttftMs: number;
  e2eMs: number;
  outputTokens: number;
  /** performance.now() when the request was sent and when it ended (however it ended). */
  sentAt: number;
  doneAt: number;
  /** The pod that served it (`x-gateway-destination-endpoint-served`), when the gateway said. */
  endpoint?: string;
  /** Why a request with status 0 failed. */
  error?: string;
}

export interface StreamSpec {
  tag: string;
  /** Requests per second (mean of the Poisson process). */
  rate: number;
  /** Builds the request body for the i-th request. */
  body: (i: number, random: Random) => Record<string, unknown>;
  headers?: Record<string, string>;
}

/** Sends one streamed chat request and times it. `signal` cuts it off (status 0, error "aborted"). */
export async function timedChat(
  url: string,
  spec: StreamSpec,
  i: number,
  random: Random,
  signal?: AbortSignal,
): Promise<Sample> {
  const start = performance.now();
  const base = { tag: spec.tag, sentAt: start };
  const failed = (error: string, ttftMs: number, outputTokens: number, endpoint?: string): Sample => {
    const now = performance.now();
    return {
      ...base,
      status: 0,
      ttftMs,
      e2eMs: now - start,
      doneAt: now,
      outputTokens,
      error,
      ...(endpoint ? { endpoint } : {}),
    };
  };
  let res: Response;
  try {
    res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...spec.headers },
      body: JSON.stringify({ stream: true, ...spec.body(i, random) }),
      ...(signal ? { signal } : {}),
    });
  } catch (err) {
    return failed(signal?.aborted ? "aborted" : String(err), Number.NaN, 0);
  }
  const endpoint = res.headers.get("x-gateway-destination-endpoint-served") ?? undefined;
  const ep = endpoint ? { endpoint } : {};
  if (!res.ok || !res.body) {
    await res.text().catch(() => "");
    const now = performance.now();
    return {
      ...base,
      ...ep,
      status: res.status,
      ttftMs: now - start,
      e2eMs: now - start,
      doneAt: now,
      outputTokens: 0,
    };
  }
  let ttft = Number.NaN;
  let tokens = 0;
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body) {
      const text = decoder.decode(chunk, { stream: true });
      const n = text.split('"content":"').length - 1;
      if (n > 0) {
        if (Number.isNaN(ttft)) ttft = performance.now() - start;
        tokens += n;
      }
    }
  } catch (err) {
    return failed(signal?.aborted ? "aborted" : String(err), ttft, tokens, endpoint);
  }
  const now = performance.now();
  return {
    ...base,
    ...ep,
    status: res.status,
    ttftMs: ttft,
    e2eMs: now - start,
    doneAt: now,
    outputTokens: tokens,
  };
}

export interface OpenLoopOptions {
  /**
   * After the arrival window, wait at most this long for the requests still running, then
   * cut them off (status 0, error "aborted"). Default: wait for all of them.
   */
  drainSeconds?: number;
  /** Called once the arrival window has ended (e.g. to snapshot counters). */
  onWindowEnd?: () => void;
}

/**
 * Runs Poisson streams for `seconds`, then waits for every request sent to finish (or
 * for `opts.drainSeconds`). Arrival times are drawn on an absolute schedule, so timer
 * overshoot does not lower the offered rate. With several URLs (gateway replicas), the
 * requests go to them in turn.
 */
export async function runOpenLoop(
  url: string | readonly string[],
  streams: StreamSpec[],
  seconds: number,
  seed = 1,
  opts: OpenLoopOptions = {},
): Promise<Sample[]> {
  const urls = typeof url === "string" ? [url] : url;
  if (urls.length === 0) throw new Error("runOpenLoop: no URL");
  const random = seededRandom(seed);
  const abort = new AbortController();
  const pending: Promise<Sample>[] = [];
  const begin = performance.now();
  const end = begin + seconds * 1000;
  let sent = 0;
  await Promise.all(
    streams.map(async (spec) => {
      let i = 0;
      let at = begin;
      for (;;) {
        at += (-Math.log(1 - random()) / spec.rate) * 1000;
        if (at > end) return;
        const wait = at - performance.now();
        if (wait > 0) await Bun.sleep(wait);
        pending.push(timedChat(urls[sent++ % urls.length]!, spec, i++, random, abort.signal));
      }
    }),
  );
  const remaining = end - performance.now();
  if (remaining > 0) await Bun.sleep(remaining);
  opts.onWindowEnd?.();
  const all = Promise.all(pending);
  if (opts.drainSeconds === undefined) return all;
  const timer = setTimeout(() => abort.abort(), opts.drainSeconds * 1000);
  try {
    return await all;
  } finally {
    clearTimeout(timer);
  }
}

export function quantile(values: number[], q: number): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  return v[Math.min(v.length - 1, Math.floor(q * v.length))]!;
}

/**
 * Like `quantile`, but +Infinity counts (a request that never got there, e.g. cut off
 * before its first token): the result is +Infinity when the quantile falls among them.
 */
export function censoredQuantile(values: number[], q: number): number {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  return v[Math.min(v.length - 1, Math.floor(q * v.length))]!;
}

export const fmt = (ms: number) => (Number.isFinite(ms) ? ms.toFixed(0) : "-");
