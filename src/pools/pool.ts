import type { Clock, Random, SetTimer } from "../clock.ts";
import { ConfigHolder } from "../config/holder.ts";
import { type GatewayConfig, poolView } from "../config/load.ts";
import type { PoolConfig } from "../config/pools.ts";
import type { FetchFn } from "../deps.ts";
import type { PassiveHealth } from "../endpoints/health.ts";
import type { InFlight } from "../endpoints/inflight.ts";
import { startModelDiscovery } from "../endpoints/model-discovery.ts";
import { startScraping } from "../endpoints/scraping.ts";
import { EndpointStore } from "../endpoints/store.ts";
import { createAdmitter, type FlowPlugins } from "../flow/admitter.ts";
import type { SuccessiveFlowController } from "../flow/successor.ts";
import type { Logger } from "../log.ts";
import type { flowMetrics } from "../metrics/flow-metrics.ts";
import type { schedulerMetrics } from "../metrics/scheduler-metrics.ts";
import { LoadTracker } from "../scheduling/framework/load.ts";
import type { PluginRegistry } from "../scheduling/framework/registry.ts";
import { PoolScheduler } from "../scheduling/pool-scheduler.ts";
import type { Admitter } from "../stages/admit.ts";

/** What every pool shares: the gateway's clock, timers, plugins, health and metrics. */
export interface PoolShared {
  readonly registry: PluginRegistry;
  readonly flowPlugins: FlowPlugins;
  readonly inflight: InFlight;
  readonly health: PassiveHealth;
  readonly clock: Clock;
  readonly random: Random;
  readonly setTimer: SetTimer;
  readonly logger: Logger;
  readonly fetch: FetchFn;
  readonly flowMetrics: ReturnType<typeof flowMetrics>;
  readonly schedulerMetrics: ReturnType<typeof schedulerMetrics>;
  readonly scrapeErrors: Parameters<typeof startScraping>[0]["scrapeErrors"];
  /** True unless the config (or the embedded pods) gives this endpoint's models. */
  readonly learns: (name: string) => boolean;
}

/**
 * One InferencePool as the gateway runs it: its own endpoints and data layer (scraping,
 * model discovery), assumed load, flow control and scheduler (with its prefix index). Its config holder sees the config as if this pool
 * were the only one (`poolView`), so the single-pool parts need not know about pools.
 */
export class Pool {
  readonly config: ConfigHolder;
  readonly endpoints: EndpointStore;
  readonly loads: LoadTracker;
  readonly admitter: Admitter;
  readonly flow: SuccessiveFlowController | undefined;
  /** Pool saturation now (>= 1 means full), from the configured detector. */
  readonly saturation: () => number;
  readonly scheduler: PoolScheduler;
  private readonly background: { stop(): void }[] = [];
  private rounds: { scrapeNow(): Promise<void>; refresh(): Promise<void> } | undefined;
  private readonly detach: (() => void)[] = [];
  /** Requests routed here that have not ended (a retired pool stops when none is left). */
  private active = 0;
  private retired: (() => void) | undefined;

  constructor(
    readonly name: string,
    part: PoolConfig,
    config: GatewayConfig,
    private readonly shared: PoolShared,
  ) {
    this.config = new ConfigHolder(poolView(config, part));
    // The store's columns keep the in-flight counts too; the tracker reads its endpoints from them.
    this.endpoints = new EndpointStore(shared.inflight);
    this.loads = new LoadTracker({ columns: this.endpoints.columns });
    const { clock, setTimer, logger } = shared;
    const observed = shared.flowMetrics.forPool(name, () => this.saturation());
    this.detach.push(observed.remove);
    const built = createAdmitter({
      config: this.config,
      endpoints: this.endpoints,
      inflight: shared.inflight,
      loads: this.loads,
      clock,
      setTimer,
      plugins: shared.flowPlugins,
      health: shared.health,
      logger,
      observe: observed.observe,
    });
    this.admitter = built.admitter;
    this.flow = built.flow;
    this.saturation = built.saturation;
    this.scheduler = new PoolScheduler({
      config: this.config,
      registry: shared.registry,
      endpoints: this.endpoints,
      inflight: shared.inflight,
      loads: this.loads,
      random: shared.random,
      clock,
      observe: shared.schedulerMetrics.observe,
      observeDecision: shared.schedulerMetrics.observeDecision,
      logger,
    });
    this.detach.push(shared.schedulerMetrics.attach(this.scheduler));
  }

  /** Takes this pool's part of a new config (a reload, or the cluster's resources changed). */
  update(part: PoolConfig, config: GatewayConfig): void {
    this.config.swap(poolView(config, part));
  }

  /** Starts scraping and model discovery (see Gateway.start). Idempotent. */
  start(timers: boolean): void {
    if (this.background.length) return;
    const { shared } = this;
    const data = this.config.current.settings.dataLayer;
    const discovery = startModelDiscovery({
      store: this.endpoints,
      fetch: shared.fetch,
      logger: shared.logger,
      shouldLearn: shared.learns,
      intervalMs: data.modelsRefreshMs,
      timers,
      setTimer: shared.setTimer,
    });
    const scraping = startScraping({
      config: this.config,
      store: this.endpoints,
      fetch: shared.fetch,
      clock: shared.clock,
      setTimer: shared.setTimer,
      logger: shared.logger,
      scrapeErrors: shared.scrapeErrors,
      poolName: this.name,
      // Fresh metrics may mean room in the pool: let flow control dispatch.
      onRefresh: () => this.flow?.onCapacityChange(),
      timers,
    });
    this.background.push(discovery, scraping);
    this.rounds = { scrapeNow: scraping.scrapeNow, refresh: discovery.refresh };
  }

  async refresh(models: boolean): Promise<void> {
    await Promise.all([this.rounds?.scrapeNow(), models ? this.rounds?.refresh() : undefined]);
  }

  /**
   * Counts a request routed here until it ends; returns its release (call it once per
   * `enter`). One object per pool, not one and a closure per request: every request's
   * release does the same thing.
   */
  enter(): { release(): void } {
    this.active++;
    return this.exit;
  }

  private readonly exit = {
    release: () => {
      this.active--;
      this.settle();
    },
  };

  /**
   * The pool left the config: new requests no longer come, those routed here (queued or
   * running) finish on its endpoints, then its background work stops.
   */
  retire(onStopped?: () => void): void {
    this.retired = () => {
      this.stop();
      onStopped?.();
    };
    this.settle();
  }

  private settle(): void {
    if (this.retired && this.active === 0 && (this.flow?.stats().queued ?? 0) === 0) {
      const done = this.retired;
      this.retired = undefined;
      done();
    }
  }

  /** Stops background work and rejects what is queued (shutdown). */
  stop(): void {
    this.flow?.shutdown();
    for (const b of this.background.splice(0)) b.stop();
    for (const d of this.detach.splice(0)) d();
    // The gateway's in-flight counts outlive the pool: they must not keep writing (and holding) its columns.
    this.endpoints.columns.detach();
  }
}
