import { GatewayError, toErrorResponse } from "../../errors.ts";
import { createGateway, type Gateway } from "../../gateway.ts";
import { loadWorkerConfig } from "./config.ts";
import type { DurableObjectState, WorkerEnv } from "./types.ts";

/**
 * One Durable Object per InferencePool: the whole gateway (endpoint store, metrics
 * snapshots, flow-control queues, prefix index, in-flight counts) lives in this object's
 * memory, so every Worker isolate that forwards here sees one queue and one index.
 *
 * No long-lived timers: the object's alarm drives the data layer. Each alarm scrapes every
 * endpoint's /metrics once (and /v1/models every `modelsRefreshMs`), then re-arms itself
 * `scrapeIntervalMs` later, which also wakes the object again after an eviction. State is
 * memory only: an evicted object starts empty and is rebuilt from config and one scrape
 * before it takes its first request (`blockConcurrencyWhile`).
 */
export class GatewayPool {
  readonly #state: DurableObjectState;
  readonly #gateway: Gateway | undefined;
  readonly #configError: unknown;
  #modelsAskedAt = Number.NEGATIVE_INFINITY;

  constructor(state: DurableObjectState, env: WorkerEnv) {
    this.#state = state;
    let gateway: Gateway | undefined;
    try {
      gateway = createGateway({ config: loadWorkerConfig(env) });
      gateway.start({ timers: false });
    } catch (err) {
      this.#configError = err;
    }
    this.#gateway = gateway;
    if (gateway) void state.blockConcurrencyWhile(() => this.#round());
  }

  async fetch(request: Request): Promise<Response> {
    if (!this.#gateway) return configErrorResponse(this.#configError);
    return this.#gateway.fetch(request);
  }

  /** The scrape loop: one round, then the next alarm. */
  async alarm(): Promise<void> {
    await this.#round();
  }

  async #round(): Promise<void> {
    const gateway = this.#gateway;
    if (!gateway) return;
    const data = gateway.deps.config.current.settings.dataLayer;
    const models = Date.now() - this.#modelsAskedAt >= data.modelsRefreshMs;
    if (models) this.#modelsAskedAt = Date.now();
    try {
      await gateway.refresh({ models }); // never rejects: failed scrapes are counted and logged
    } finally {
      await this.#state.storage.setAlarm(Date.now() + data.scrapeIntervalMs);
    }
  }
}

/** A config the Worker cannot run with: every request gets a 500 that says what to fix. */
export function configErrorResponse(err: unknown): Response {
  const message = err instanceof Error ? err.message : String(err);
  return toErrorResponse(
    new GatewayError({ status: 500, message: `config error: ${message}`, code: "config_error" }),
  );
}
