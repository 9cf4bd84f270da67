import { type SetTimer, systemTimer } from "../clock.ts";
import type { Logger } from "../log.ts";

/**
 * Passive health (outlier detection), judged by the endpoint's real answers, as Envoy's
 * outlier detection does:
 *
 * - **consecutive failures**: `ejectAfterFailures` failures in a row (refused, reset,
 *   timed out, 5xx) eject it (Envoy's consecutive_5xx, default 5 there);
 * - **failure rate**: over the last `failureWindow` answers (at least half the window
 *   seen), a share of failures of `maxFailureRate` or more ejects it (Envoy's
 *   failure_percentage, 85% over 50 requests there): catches a pod failing every
 *   other request, which never fails three times in a row;
 * - **growing ejection**: the n-th ejection lasts `ejectionMs × 2^(n-1)`, at most
 *   `maxEjectionMs`; every full window of successes later takes one step back;
 * - **probation, not /health**: when the ejection ends, `probe` (if any) must pass, then
 *   the endpoint gets real traffic again on probation: its next answer decides. A
 *   success returns it to service; a failure ejects it again, for longer. A pod whose
 *   /health is fine but whose answers are 500s therefore stays out longer each time.
 */
export interface PassiveHealthOptions {
  logger: Logger;
  /** Consecutive failures that eject an endpoint. */
  ejectAfterFailures: () => number;
  /** First ejection period (ms); doubles with each new ejection, up to maxEjectionMs. */
  ejectionMs: () => number;
  maxEjectionMs?: () => number;
  /** Answers remembered per endpoint for the failure rate (0 turns the rate rule off). */
  failureWindow?: () => number;
  /** Share of failures in the window (0-1] that ejects. */
  maxFailureRate?: () => number;
  /** A gate before probation (e.g. GET /health): a failed probe keeps the endpoint out, for longer. */
  probe?: (name: string) => Promise<boolean>;
  setTimer?: SetTimer;
}

export type HealthState = "healthy" | "ejected" | "probation";

interface State {
  state: HealthState;
  consecutive: number;
  /** Recent answers, true = failure; a ring of at most failureWindow entries. */
  window: boolean[];
  failuresInWindow: number;
  /** Ejections so far (decays); sets the next ejection's length. */
  level: number;
  /** Successes since the last step back of `level`. */
  goodRun: number;
  cancel?: () => void;
}

export class PassiveHealth {
  private readonly states = new Map<string, State>();
  private ejectedCount = 0;
  private stopped = false;
  private readonly setTimer: SetTimer;

  constructor(private readonly opts: PassiveHealthOptions) {
    this.setTimer = opts.setTimer ?? systemTimer;
  }

  /** True when no endpoint is ejected: lets the request path skip filtering. */
  get allHealthy(): boolean {
    return this.ejectedCount === 0;
  }

  isEjected(name: string): boolean {
    return this.states.get(name)?.state === "ejected";
  }

  stateOf(name: string): HealthState {
    return this.states.get(name)?.state ?? "healthy";
  }

  ejected(): string[] {
    return [...this.states].filter(([, s]) => s.state === "ejected").map(([n]) => n);
  }

  /** Every endpoint with a state (any failure seen): the caller removes those that left the pool. */
  known(): string[] {
    return [...this.states.keys()];
  }

  success(name: string): void {
    const s = this.states.get(name);
    if (!s || s.state === "ejected") return;
    if (s.state === "probation") {
      s.state = "healthy";
      this.opts.logger.info("endpoint back: answered well on probation", { endpoint: name });
    }
    s.consecutive = 0;
    this.remember(s, false);
    if (++s.goodRun >= Math.max(1, this.window())) {
      s.goodRun = 0;
      s.level = Math.max(0, s.level - 1);
    }
  }

  failure(name: string, reason: string): void {
    let s = this.states.get(name);
    if (!s) {
      s = { state: "healthy", consecutive: 0, window: [], failuresInWindow: 0, level: 0, goodRun: 0 };
      this.states.set(name, s);
    }
    if (s.state === "ejected") return; // answers to requests sent before the ejection
    s.consecutive++;
    s.goodRun = 0;
    this.remember(s, true);
    const seen = s.window.length;
    const rate = this.opts.maxFailureRate?.() ?? 1;
    if (s.state === "probation") this.eject(name, s, `failed on probation: ${reason}`);
    else if (s.consecutive >= this.opts.ejectAfterFailures())
      this.eject(name, s, `${s.consecutive} failures in a row, last: ${reason}`);
    else if (this.window() > 0 && seen * 2 >= this.window() && s.failuresInWindow / seen >= rate)
      this.eject(name, s, `${s.failuresInWindow} of the last ${seen} answers failed, last: ${reason}`);
  }

  /** Forget an endpoint that left the pool. */
  remove(name: string): void {
    const s = this.states.get(name);
    if (!s) return;
    s.cancel?.();
    if (s.state === "ejected") this.ejectedCount--;
    this.states.delete(name);
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.states.values()) s.cancel?.();
  }

  private window(): number {
    return this.opts.failureWindow?.() ?? 0;
  }

  private remember(s: State, failed: boolean): void {
    const size = this.window();
    if (size <= 0) return;
    s.window.push(failed);
    if (failed) s.failuresInWindow++;
    while (s.window.length > size) if (s.window.shift()) s.failuresInWindow--;
  }

  private eject(name: string, s: State, reason: string): void {
    const base = this.opts.ejectionMs();
    const max = this.opts.maxEjectionMs?.() ?? 60_000;
    const forMs = Math.min(base * 2 ** s.level, Math.max(base, max));
    s.level++;
    s.state = "ejected";
    s.consecutive = 0;
    s.window = [];
    s.failuresInWindow = 0;
    this.ejectedCount++;
    this.opts.logger.warn("endpoint ejected", { endpoint: name, reason, forMs, ejections: s.level });
    s.cancel = this.setTimer(() => void this.endEjection(name, s), forMs);
  }

  private async endEjection(name: string, s: State): Promise<void> {
    s.cancel = undefined;
    if (this.stopped || this.states.get(name) !== s) return;
    const passed = this.opts.probe ? await this.opts.probe(name).catch(() => false) : true;
    if (this.stopped || this.states.get(name) !== s) return;
    this.ejectedCount--;
    if (!passed) {
      this.eject(name, s, "its probe failed");
      return;
    }
    s.state = "probation";
    this.opts.logger.info("endpoint on probation: its next answer decides", { endpoint: name });
  }
}
