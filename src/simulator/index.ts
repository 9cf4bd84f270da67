/**
 * A simulated vLLM pod: an OpenAI-compatible HTTP handler with vLLM's scheduling,
 * latency, prefix cache, KV and LoRA behaviour and its Prometheus metrics, for
 * evaluating a gateway's scheduler. Web-standard only (runs in Bun, Node, Deno, Workers);
 * `startSimulators` listens through an injected ServeFn.
 */
import type { ServeFn } from "../runtime/server.ts";
import { createApp, type Fault } from "./app.ts";
import { Engine } from "./engine.ts";
import { SimError } from "./errors.ts";
import { engineCache, publishKvEvents } from "./kv-events.ts";
import { type Runner, resolveOptions, type SimulatorOptions } from "./options.ts";

export type { Fault } from "./app.ts";
export type { Runner, SimulatorOptions } from "./options.ts";

export interface SimulatorStats {
  running: number;
  waiting: number;
  completed: number;
  aborted: number;
  kvBlocksInUse: number;
  prefixHits: number;
  prefixQueries: number;
}

export interface Simulator {
  fetch(request: Request): Promise<Response>;
  /** Test hooks for chaos tests: make the pod misbehave; undefined restores it. */
  setFault(fault: Fault | undefined): void;
  stats(): SimulatorStats;
  /** Aborts every request, clears every timer; later inference requests get 503. */
  close(): void;
}

export interface RunningSimulator {
  /** The port actually bound. */
  port: number;
  model: string;
  /** What the pod serves: generation or pooling routes. */
  runner: Runner;
  simulator: Simulator;
  close(): Promise<void>;
}

export type SimulatorSpec = SimulatorOptions & { port: number; hostname?: string };

export function createSimulator(opts: SimulatorOptions): Simulator {
  const options = resolveOptions(opts);
  const engine = new Engine(options);
  const kvEvents = options.kvEventsConfig
    ? publishKvEvents(engineCache(engine), options.kvEventsConfig, { clock: options.clock })
    : undefined;
  const sleepers = new Set<() => void>();
  let fault: Fault | undefined;
  let closed = false;

  const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      const stop = (err?: Error) => {
        cancel();
        sleepers.delete(onClose);
        signal.removeEventListener("abort", onAbort);
        if (err) reject(err);
        else resolve();
      };
      const onAbort = () => stop(new SimError(499, "Client closed the request."));
      const onClose = () => stop(new SimError(503, "The simulator was closed."));
      const cancel = options.setTimer(() => stop(), ms);
      sleepers.add(onClose);
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });

  const app = createApp({ options, engine, fault: () => fault, sleep, closed: () => closed });

  return {
    fetch: async (request) => app.fetch(request),
    setFault(f) {
      if (f?.status !== undefined && !(Number.isInteger(f.status) && f.status >= 200 && f.status <= 599)) {
        throw new Error(`simulator: fault status must be an HTTP status 200..599, got ${f.status}`);
      }
      fault = f ? { ...f } : undefined;
    },
    stats: () => engine.stats(),
    close() {
      closed = true;
      for (const wake of [...sleepers]) wake();
      engine.close();
      kvEvents?.close();
    },
  };
}

/** Starts one simulator per spec on `serve`; if one fails to listen, stops the others. */
export async function startSimulators(serve: ServeFn, specs: SimulatorSpec[]): Promise<RunningSimulator[]> {
  const started: RunningSimulator[] = [];
  try {
    for (const { port, hostname, ...opts } of specs) {
      const simulator = createSimulator(opts);
      const server = await serve({ fetch: simulator.fetch, port, ...(hostname ? { hostname } : {}) }).catch(
        (err: unknown) => {
          simulator.close();
          throw err;
        },
      );
      started.push({
        port: server.port,
        model: opts.model,
        runner: opts.runner ?? "generate",
        simulator,
        close: async () => {
          simulator.close();
          await server.close();
        },
      });
    }
  } catch (err) {
    await Promise.allSettled(started.map((s) => s.close()));
    throw err;
  }
  return started;
}
