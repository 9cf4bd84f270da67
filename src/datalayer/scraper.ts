/**
 * Background scraping of model-server `/metrics`, one self-rescheduling timer per target.
 *
 * Contract:
 * - A target is scraped right away when added, then on a grid of `intervalMs` from the time
 *   each scrape was due (its timer's time, not when the timer ran: a timer that fires late
 *   does not move the grid, as with Go's `time.Ticker` in GIE's refresh loop). The next timer
 *   is armed only when a scrape ends, so two scrapes of one target are never in flight; a
 *   scrape slower than the interval skips the ticks it overlapped (next = due + k * interval
 *   for the smallest k that lies in the future). So targets added together stay due at the
 *   same time; before, each target's grid moved by its own timer's error every tick and the
 *   targets spread over the interval, each in a wake-up of its own.
 * - Targets due in the same millisecond start in one wake-up: the first of their timers to
 *   fire starts them all (runtimes truncate delays to whole ms, so their timers would fire
 *   apart). Sharing starts no scrape before the millisecond it is due in (a runtime's timer
 *   may fire a little early, as before); each target keeps its own timer and grid.
 * - A scrape not answered (headers and body) within `timeoutMs` is late; it is abandoned
 *   (its own `AbortController` aborted, a failure) after `abandonAfterMs` (default
 *   `timeoutMs`). Between the two the pod lags but its connection and last snapshot are
 *   kept, so a busy pod's slow answer still lands (see freshness.ts).
 * - A failed scrape (network error, abandoned, non-2xx, unknown engine, or none of the mapped
 *   metrics present) is counted and retried `intervalMs * 2^consecutiveFailures` (capped at
 *   `maxBackoffMs`) after that scrape was due, so an abandoned scrape is retried at once
 *   while a refused connection backs off; one success resets the back-off.
 * - `onStatus` hears when each scrape starts and ends (see `ScrapeStatus`), so freshness can
 *   tell a late scrape from a dead pod (freshness.ts).
 * - Connections are kept alive: bodies are read to the end (also on errors), no
 *   `connection: close` is sent, so a busy pod is not asked to accept a new connection per scrape.
 * - `setTargets` diffs by name: existing targets keep their timers (a changed URL or engine is
 *   used from the next scrape), removed ones are cancelled and their in-flight scrape aborted.
 * - `stop()` clears every timer and aborts every scrape: no CPU is used afterwards.
 * - Time comes from `clock` and `setTimer` only, so tests drive it with a fake.
 * - With `byName`, only the metrics the engine mapping reads are asked for, where the pod
 *   answers so (prometheus_client's `name[]`, checked per pod against its full page:
 *   by-name.ts). The page itself is read by scrape-page.ts.
 */

import { type Clock, type SetTimer, systemTimer } from "../clock.ts";
import type { MetricsSnapshot, ScrapeStatus } from "../endpoints/types.ts";
import { type ByNameState, wantedFamilies } from "./by-name.ts";
import { type EngineMapping, missingMetrics, toSnapshot, wantedMetrics } from "./engines.ts";
import { parsePromText } from "./prom-text.ts";
import { type Controller, type FetchLike, pageReader } from "./scrape-page.ts";

export { isStale } from "./freshness.ts";
export type { FetchLike } from "./scrape-page.ts";

export interface ScrapeTarget {
  /** Endpoint name; the key of `onSnapshot`, `onError` and `errors()`. */
  name: string;
  /** Full URL, e.g. `http://10.0.0.7:8000/metrics`. */
  url: string;
  /** Key into `engines`, e.g. `vllm`. */
  engine: string;
}

/** No scrape in flight, no failure: the status after every successful scrape. */
const IDLE: ScrapeStatus = Object.freeze({ inFlightSince: undefined, lateAt: undefined, failures: 0 });

export interface ScraperOptions {
  /** Default: the global `fetch`. */
  fetch?: FetchLike;
  clock: Clock;
  /** Default: real timers. */
  setTimer?: SetTimer;
  intervalMs?: number;
  /** After this a scrape in flight is late (default 1000). */
  timeoutMs?: number;
  /** After this a scrape is aborted and counts as failed; at least `timeoutMs` (the default). */
  abandonAfterMs?: number;
  maxBackoffMs?: number;
  engines: Readonly<Record<string, EngineMapping>>;
  /** Called with a frozen snapshot after every successful scrape. */
  onSnapshot(name: string, snapshot: MetricsSnapshot): void;
  /** Called after every failed scrape (also when `onSnapshot` throws). */
  onError?(name: string, err: unknown): void;
  /**
   * Called after a successful scrape in which some core fields (`waiting`, `running`,
   * `kvUsage`), not all, found no series: those read 0. Lets the wiring warn the operator.
   */
  onMissing?(name: string, fields: readonly string[]): void;
  /** Called when a scrape starts and when it ends (after `onSnapshot` / `onError`). */
  onStatus?(name: string, status: ScrapeStatus): void;
  /**
   * Ask each pod for the wanted metrics only (`name[]`, checked per pod: see the contract).
   * Default false; the gateway's data layer turns it on (`dataLayer.scrapeByName`).
   */
  byName?: boolean;
  /**
   * false: no timers; targets are scraped only by `scrapeNow()` (runtimes without long-lived
   * timers, e.g. a Durable Object whose alarm drives the scrapes). Default true.
   */
  timers?: boolean;
}

export interface Scraper {
  /** Replaces the target set; unchanged names keep their schedule. Ignored after `stop()`. */
  setTargets(targets: readonly ScrapeTarget[]): void;
  /** Cancels every timer and in-flight scrape. Final. */
  stop(): void;
  /** Cumulative failed scrapes per current target (a copy). */
  errors(): ReadonlyMap<string, number>;
  /** Scrapes every target once (joining any scrape already in flight); resolves when all are done. */
  scrapeNow(): Promise<void>;
}

interface TargetState extends ByNameState {
  target: ScrapeTarget;
  /** Cancels the armed timer, if any. */
  timer: (() => void) | undefined;
  inFlight: Promise<void> | undefined;
  controller: Controller | undefined;
  /** When the armed timer (or the scrape it started) was due: the anchor of the grid. */
  dueAt: number;
  /** Consecutive failures, for back-off. */
  failures: number;
  removed: boolean;
}

/**
 * Delay from the end of a scrape to the start of the next, given the time since that scrape
 * was due: after failures, what is left of the back-off counted from then; else the next
 * tick on the interval grid.
 */
export function nextDelay(o: {
  intervalMs: number;
  maxBackoffMs: number;
  failures: number;
  elapsedMs: number;
}) {
  const elapsed = Math.max(0, o.elapsedMs);
  if (o.failures > 0) return Math.max(0, Math.min(o.intervalMs * 2 ** o.failures, o.maxBackoffMs) - elapsed);
  return o.intervalMs - (elapsed % o.intervalMs);
}

function positive(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0))
    throw new RangeError(`scraper: ${name} must be > 0, got ${value}`);
  return value;
}

export function createScraper(opts: ScraperOptions): Scraper {
  const { clock, engines } = opts;
  const setTimer = opts.setTimer ?? systemTimer;
  const { newController, page } = pageReader(opts.fetch);
  const intervalMs = positive("intervalMs", opts.intervalMs ?? 50);
  const timeoutMs = positive("timeoutMs", opts.timeoutMs ?? 1000);
  const abandonAfterMs = Math.max(timeoutMs, positive("abandonAfterMs", opts.abandonAfterMs ?? timeoutMs));
  const maxBackoffMs = Math.max(intervalMs, positive("maxBackoffMs", opts.maxBackoffMs ?? 5000));
  const askByName = opts.byName === true;
  const states = new Map<string, TargetState>();
  const errorCounts = new Map<string, number>();
  let stopped = false;

  function status(st: TargetState, inFlightSince: number | undefined): void {
    if (!opts.onStatus || st.removed) return;
    const idle = inFlightSince === undefined;
    // The status after a success is always the same frozen object (one allocation fewer a scrape).
    const s =
      idle && st.failures === 0
        ? IDLE
        : Object.freeze({
            inFlightSince,
            lateAt: idle ? undefined : inFlightSince + timeoutMs,
            failures: st.failures,
          });
    try {
      opts.onStatus(st.target.name, s);
    } catch (err) {
      report(st.target.name, err);
    }
  }

  function report(name: string, err: unknown): void {
    try {
      opts.onError?.(name, err);
    } catch {
      // A throwing error hook must not break the scrape loop.
    }
  }

  /** The wanted metrics' samples, asked by name where the pod answers so (by-name.ts). */
  function families(st: TargetState, controller: Controller, wanted: ReadonlySet<string>) {
    const read = (url: string) => page(url, controller);
    if (!askByName) return read(st.target.url).then((text) => parsePromText(text, wanted).families);
    return wantedFamilies(st, st.target.url, wanted, read, () => controller.signal.aborted);
  }

  async function fetchSnapshot(st: TargetState, controller: Controller): Promise<MetricsSnapshot> {
    const { url, engine } = st.target;
    const mapping = engines[engine];
    if (!mapping) {
      throw new Error(`unknown engine "${engine}"; known engines: ${Object.keys(engines).join(", ")}`);
    }
    const wanted = wantedMetrics(mapping);
    const found = await families(st, controller, wanted);
    const missing = missingMetrics(found, mapping);
    if (missing.length === 3) {
      const names = [...wanted].join(", ");
      throw new Error(`GET ${url}: none of the "${engine}" metrics found (${names}); is the engine right?`);
    }
    if (missing.length > 0) opts.onMissing?.(st.target.name, missing);
    return toSnapshot(found, mapping, clock.now());
  }

  async function scrape(st: TargetState): Promise<void> {
    const controller = newController();
    st.controller = controller;
    const cancelTimeout = setTimer(() => {
      const msg = `GET ${st.target.url}: timed out after ${abandonAfterMs} ms`;
      controller.abort(new DOMException(msg, "TimeoutError"));
    }, abandonAfterMs);
    status(st, clock.now());
    let snapshot: MetricsSnapshot;
    try {
      snapshot = await fetchSnapshot(st, controller);
    } catch (err) {
      if (st.removed) return; // aborted by setTargets/stop: not the target's fault
      st.failures++;
      errorCounts.set(st.target.name, (errorCounts.get(st.target.name) ?? 0) + 1);
      report(st.target.name, controller.signal.aborted ? controller.signal.reason : err);
      status(st, undefined);
      return;
    } finally {
      cancelTimeout();
      st.controller = undefined;
    }
    if (st.removed) return;
    st.failures = 0;
    try {
      opts.onSnapshot(st.target.name, snapshot);
    } catch (err) {
      report(st.target.name, err);
    }
    status(st, undefined);
  }

  /** Starts a scrape unless one is in flight, in which case it joins that one. */
  function scrapeOnce(st: TargetState): Promise<void> {
    if (st.inFlight) return st.inFlight;
    const p = scrape(st).finally(() => {
      st.inFlight = undefined;
    });
    st.inFlight = p;
    return p;
  }

  /**
   * Armed targets by the millisecond they fall due in (`Math.floor(dueAt)`), and the one timer
   * that starts them. Runtimes truncate a timer's delay to whole milliseconds from when it was
   * armed, so targets due at the same time but armed at different times would fire in
   * different wake-ups: the first target armed for a millisecond arms its timer, and later
   * ones join it (fourteenth pass: one timer a tick, not one a target); it starts every target
   * due in that millisecond, in the order they were armed.
   */
  const dueIn = new Map<number, { targets: Set<TargetState>; cancel: () => void }>();

  /** Arms `st`'s timer `delay` ms from `now`; that time is the next scrape's grid time. */
  function arm(st: TargetState, now: number, delay: number): void {
    st.dueAt = now + delay;
    const ms = Math.floor(st.dueAt);
    const due = dueIn.get(ms);
    if (due) due.targets.add(st);
    else dueIn.set(ms, { targets: new Set([st]), cancel: setTimer(() => fire(ms), delay) });
    st.timer = () => unlist(st, ms);
  }

  /** `st` is no longer due in `ms`; the millisecond's timer is cancelled with its last target. */
  function unlist(st: TargetState, ms: number): void {
    const due = dueIn.get(ms);
    if (!due?.targets.delete(st) || due.targets.size > 0) return;
    dueIn.delete(ms);
    due.cancel();
  }

  /** One wake-up: every target due in millisecond `ms`, in the order they were armed. */
  function fire(ms: number): void {
    const due = dueIn.get(ms);
    if (!due) return;
    dueIn.delete(ms);
    for (const st of due.targets) {
      st.timer = undefined;
      tick(st);
    }
  }

  /** Arms the next tick after one due at `due`, given the failures so far. */
  function armAfter(st: TargetState, due: number, failures: number): void {
    const now = clock.now();
    // A timer may fire before its time (the delay truncated): the grid still counts from `due`.
    const early = Math.max(0, due - now);
    arm(st, now, early + nextDelay({ intervalMs, maxBackoffMs, failures, elapsedMs: now - due }));
  }

  function tick(st: TargetState): void {
    st.timer = undefined;
    if (st.removed) return;
    const due = st.dueAt;
    if (st.inFlight) {
      armAfter(st, due, 0); // a scrapeNow() is running: skip this tick
      return;
    }
    void scrapeOnce(st).then(() => {
      if (!st.removed) armAfter(st, due, st.failures);
    });
  }

  function remove(st: TargetState): void {
    st.removed = true;
    st.timer?.();
    st.timer = undefined;
    st.controller?.abort(new DOMException("scrape target removed", "AbortError"));
    states.delete(st.target.name);
    errorCounts.delete(st.target.name);
  }

  return {
    setTargets(targets) {
      if (stopped) return;
      const next = new Map(targets.map((t) => [t.name, t]));
      const now = clock.now(); // targets added together share one grid
      for (const st of [...states.values()]) if (!next.has(st.target.name)) remove(st);
      for (const t of next.values()) {
        const st = states.get(t.name);
        if (st) {
          if (st.target.url !== t.url || st.target.engine !== t.engine) {
            st.target = { ...t };
            st.failures = 0;
            st.byName = undefined;
          }
          continue;
        }
        const fresh: TargetState = {
          target: { ...t },
          timer: undefined,
          inFlight: undefined,
          controller: undefined,
          dueAt: 0,
          failures: 0,
          removed: false,
          byName: undefined,
        };
        states.set(t.name, fresh);
        errorCounts.set(t.name, 0);
        if (opts.timers !== false) arm(fresh, now, 0);
      }
    },
    stop() {
      stopped = true;
      for (const st of [...states.values()]) remove(st);
    },
    errors: () => new Map(errorCounts),
    async scrapeNow() {
      await Promise.all([...states.values()].map(scrapeOnce));
    },
  };
}
