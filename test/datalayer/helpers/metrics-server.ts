/** A loopback model-server stand-in for scraper tests: configurable, and it counts what it sees. */

import type { MetricsSnapshot } from "../../../src/endpoints/types.ts";

export const VLLM_BODY = (waiting = 2) => `# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{model_name="m"} ${waiting}
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{model_name="m"} 1
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{model_name="m"} 0.25
`;

export interface Behaviour {
  status: number;
  body: string;
  /** Never answer (until the client aborts). */
  hang: boolean;
  /** Send the headers and a first chunk, then stall the body until the client aborts. */
  stallBody: boolean;
  /** Hold each answer until the test calls `release()` (a slow pod whose pace the test sets). */
  hold: boolean;
}

export interface PathStats {
  requests: number;
  inFlight: number;
  maxInFlight: number;
  aborted: number;
}

export function startMetricsServer(initial: Partial<Behaviour> = {}) {
  const behaviour: Behaviour = {
    status: 200,
    body: VLLM_BODY(),
    hang: false,
    stallBody: false,
    hold: false,
    ...initial,
  };
  const held: (() => void)[] = [];
  const paths = new Map<string, PathStats>();
  const stats = (path: string): PathStats => {
    let s = paths.get(path);
    if (!s) {
      s = { requests: 0, inFlight: 0, maxInFlight: 0, aborted: 0 };
      paths.set(path, s);
    }
    return s;
  };

  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 30,
    async fetch(req) {
      const s = stats(new URL(req.url).pathname);
      s.requests++;
      s.inFlight++;
      s.maxInFlight = Math.max(s.maxInFlight, s.inFlight);
      const aborted = new Promise<void>((resolve) => req.signal.addEventListener("abort", () => resolve()));
      void aborted.then(() => s.aborted++);
      try {
        if (behaviour.hang) {
          await aborted;
          return new Response("never", { status: 504 });
        }
        if (behaviour.hold) await new Promise<void>((resolve) => held.push(resolve));
        if (behaviour.stallBody) {
          const body = new ReadableStream<Uint8Array>({
            async start(controller) {
              controller.enqueue(new TextEncoder().encode("# partial\n"));
              await aborted;
              controller.close();
            },
          });
          return new Response(body, { headers: { "content-type": "text/plain" } });
        }
        return new Response(behaviour.body, {
          status: behaviour.status,
          headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
        });
      } finally {
        s.inFlight--;
      }
    },
  });

  return {
    behaviour,
    stats,
    /** Lets every held request answer; returns how many there were. */
    release(): number {
      const n = held.length;
      for (const r of held.splice(0)) r();
      return n;
    },
    /** Requests waiting for `release()`. */
    held: () => held.length,
    url: (path = "/metrics") => `http://127.0.0.1:${server.port}${path}`,
    stop: () => server.stop(true),
  };
}

/** Polls `cond` every 5 ms; rejects after `timeoutMs` (generous: CI machines are noisy). */
export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = "condition"): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(5);
  }
}

/** Collects scraper callbacks per target. */
export function recorder() {
  const snapshots = new Map<string, MetricsSnapshot[]>();
  const errors = new Map<string, unknown[]>();
  const push = <T>(m: Map<string, T[]>, k: string, v: T) => {
    const list = m.get(k) ?? [];
    list.push(v);
    m.set(k, list);
  };
  return {
    snapshots,
    errors,
    onSnapshot: (name: string, s: MetricsSnapshot) => push(snapshots, name, s),
    onError: (name: string, e: unknown) => push(errors, name, e),
    count: (name: string) => snapshots.get(name)?.length ?? 0,
    errorCount: (name: string) => errors.get(name)?.length ?? 0,
  };
}
