import type { Logger } from "../log.ts";

export interface PassiveHealthOptions {
  logger: Logger;
  /** Consecutive failures that eject an endpoint. */
  ejectAfterFailures: () => number;
  /** First ejection period (ms); doubles while probes fail, up to maxEjectionMs. */
  ejectionMs: () => number;
  maxEjectionMs?: number;
  /** Asks the endpoint whether it is healthy again (e.g. GET /health). */
  probe: (name: string) => Promise<boolean>;
}

interface State {
  failures: number;
  /** Ejection period now in force; 0 = not ejected. */
  ejectedFor: number;
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * Passive health: endpoints that fail `ejectAfterFailures` times in a row (refused
 * connections, timeouts, 5xx) are ejected and not scheduled; after the ejection
 * period one probe decides whether they come back, else the period doubles.
 */
export class PassiveHealth {
  private readonly states = new Map<string, State>();
  private ejectedCount = 0;
  private stopped = false;

  constructor(private readonly opts: PassiveHealthOptions) {}

  /** True when no endpoint is ejected: lets the request path skip filtering. */
  get allHealthy(): boolean {
    return this.ejectedCount === 0;
  }

  isEjected(name: string): boolean {
    return (this.states.get(name)?.ejectedFor ?? 0) > 0;
  }

  ejected(): string[] {
    return [...this.states].filter(([, s]) => s.ejectedFor > 0).map(([n]) => n);
  }

  success(name: string): void {
    const s = this.states.get(name);
    if (s && s.ejectedFor === 0) s.failures = 0;
  }

  failure(name: string, reason: string): void {
    const s = this.states.get(name) ?? { failures: 0, ejectedFor: 0 };
    this.states.set(name, s);
    if (s.ejectedFor > 0) return;
    s.failures++;
    if (s.failures < this.opts.ejectAfterFailures()) return;
    s.ejectedFor = this.opts.ejectionMs();
    this.ejectedCount++;
    this.opts.logger.warn("endpoint ejected", {
      endpoint: name,
      failures: s.failures,
      reason,
      forMs: s.ejectedFor,
    });
    this.scheduleProbe(name, s);
  }

  /** Forget an endpoint that left the pool. */
  remove(name: string): void {
    const s = this.states.get(name);
    if (!s) return;
    clearTimeout(s.timer);
    if (s.ejectedFor > 0) this.ejectedCount--;
    this.states.delete(name);
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.states.values()) clearTimeout(s.timer);
  }

  private scheduleProbe(name: string, s: State): void {
    s.timer = setTimeout(async () => {
      if (this.stopped || this.states.get(name) !== s) return;
      const healthy = await this.opts.probe(name).catch(() => false);
      if (this.stopped || this.states.get(name) !== s) return;
      if (healthy) {
        s.ejectedFor = 0;
        s.failures = 0;
        this.ejectedCount--;
        this.opts.logger.info("endpoint back after a successful probe", { endpoint: name });
      } else {
        s.ejectedFor = Math.min(s.ejectedFor * 2, this.opts.maxEjectionMs ?? 30_000);
        this.scheduleProbe(name, s);
      }
    }, s.ejectedFor);
  }
}
