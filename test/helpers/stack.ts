import { type Clock, type SetTimer, seededRandom } from "../../src/clock.ts";
import { parseConfig } from "../../src/config/load.ts";
import type { FetchFn } from "../../src/deps.ts";
import { createGateway, type Gateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { serveBun } from "../../src/runtime/serve-bun.ts";
import type { RunningServer } from "../../src/runtime/server.ts";
import { type RunningSimulator, type SimulatorSpec, startSimulators } from "../../src/simulator/index.ts";
import { inferencePool } from "./config.ts";
import { testUpstreamFetch } from "./upstream-client.ts";

export interface Stack {
  gateway: Gateway;
  server: RunningServer;
  pods: RunningSimulator[];
  /** http://127.0.0.1:<port> of the gateway. */
  url: string;
  close(): Promise<void>;
}

/**
 * Simulated pods and a gateway, each on its own real loopback port (port 0), as
 * a user would run them. `yaml` adds documents (rewrites, objectives...) to the config.
 */
export async function startStack(opts: {
  pods: Omit<SimulatorSpec, "port" | "hostname">[];
  settings?: Record<string, unknown>;
  yaml?: string[];
  seed?: number;
  /** Fake time for the gateway's timers and clock (FakeTime); real ones when absent. */
  time?: { setTimer: SetTimer; clock: Clock };
  /** Wraps the gateway's upstream fetch (to observe what it sends). */
  fetch?: FetchFn;
  /** Labels every endpoint carries (for pool selectors and role filters). */
  endpointLabels?: Record<string, string>;
  /** Labels of pod i's endpoint, besides endpointLabels (e.g. to match one of several pools' selectors). */
  podLabels?: (i: number) => Record<string, string>;
}): Promise<Stack> {
  const pods = await startSimulators(
    serveBun,
    opts.pods.map((p, i) => ({
      jitter: 0,
      random: seededRandom(100 + i),
      ...p,
      port: 0,
      hostname: "127.0.0.1",
    })),
  );
  return serveOver(pods, {
    file: "stack.yaml",
    settings: {
      dataLayer: { scrapeIntervalMs: 20 },
      endpoints: pods.map((p, i) => ({
        name: `pod-${i}`,
        address: `127.0.0.1:${p.port}`,
        models: [p.model, ...(opts.pods[i]?.loras ?? [])],
        ...(opts.endpointLabels || opts.podLabels
          ? { labels: { ...opts.endpointLabels, ...opts.podLabels?.(i) } }
          : {}),
      })),
      ...opts.settings,
    },
    yaml: opts.yaml ?? [],
    seed: opts.seed ?? 1,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    ...(opts.time ? { time: opts.time } : {}),
  });
}

/**
 * A gateway over pods already started, served on its own loopback port: its config is a
 * silent GatewayConfig with `settings` plus the `yaml` documents. Every test stack ends here,
 * so that a config the gateway refuses never leaves the pods' ports open.
 */
export async function serveOver(
  pods: RunningSimulator[],
  opts: {
    file: string;
    settings: Record<string, unknown>;
    yaml: string[];
    seed: number;
    fetch?: FetchFn;
    time?: { setTimer: SetTimer; clock: Clock };
  },
): Promise<Stack> {
  try {
    const settings = {
      apiVersion: "gateway.inference.dev/v1alpha1",
      kind: "GatewayConfig",
      logLevel: "silent",
      ...opts.settings,
    };
    const config = parseConfig([JSON.stringify(settings), ...opts.yaml].join("\n---\n"), opts.file);
    const gateway = createGateway({
      config,
      logger: silentLogger(),
      random: seededRandom(opts.seed),
      ...(opts.fetch ? { fetch: opts.fetch } : testUpstreamFetch()),
      ...(opts.time ? { setTimer: opts.time.setTimer, clock: opts.time.clock } : {}),
    });
    gateway.start();
    const server = await serveBun({ fetch: gateway.fetch, port: 0, hostname: "127.0.0.1" });
    return {
      gateway,
      server,
      pods,
      url: `http://127.0.0.1:${server.port}`,
      async close() {
        await gateway.stop();
        await server.close();
        await Promise.all(pods.map((p) => p.close()));
      },
    };
  } catch (err) {
    await Promise.all(pods.map((p) => p.close()));
    throw err;
  }
}

/**
 * One pod per InferencePool: pod i serves `pods[i]` and is labelled `app: <pools[i]>`, and each
 * name gets a pool selecting that label (routing by model to the pool that serves it).
 */
export function startPoolPerPod(
  pools: string[],
  pods: Omit<SimulatorSpec, "port" | "hostname">[],
  settings?: Record<string, unknown>,
): Promise<Stack> {
  return startStack({
    pods,
    ...(settings ? { settings } : {}),
    podLabels: (i) => ({ app: pools[i]! }),
    yaml: pools.map(inferencePool),
  });
}

/**
 * POSTs a chat completion `body` to the stack's gateway, in the flow-control objective named
 * (the `x-gateway-inference-objective` header) when one is given.
 */
export function chatAs(
  s: Stack,
  objective: string | undefined,
  body: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<Response> {
  return fetch(`${s.url}/v1/chat/completions`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(objective ? { "x-gateway-inference-objective": objective } : {}),
    },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
}

/** Polls `check` until it returns true or `timeoutMs` passes (generous: CI machines are noisy). */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(10);
  }
}
