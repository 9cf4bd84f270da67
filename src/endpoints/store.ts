import { EndpointColumns, type InFlightSource } from "./columns.ts";
import { EMPTY_METRICS, type Endpoint, type MetricsSnapshot, type ScrapeStatus } from "./types.ts";

/**
 * The set of known endpoints. Writers (discovery, the metrics scraper) replace
 * whole Endpoint values; readers get a frozen array that never changes under them,
 * so the request path never waits and never sees a half-applied update.
 */
export class EndpointStore {
  private byName = new Map<string, Endpoint>();
  private all: readonly Endpoint[] = Object.freeze([]);
  private byModel = new Map<string, readonly Endpoint[]>();
  /** Endpoints that did not say which models they serve: candidates for any model. */
  private anyModel: readonly Endpoint[] = Object.freeze([]);
  private listeners = new Set<() => void>();
  /**
   * What a decision reads of each endpoint, by slot, written here whenever the store swaps
   * what it mirrors (src/endpoints/columns.ts); `inflight`, when given, keeps their
   * in-flight counts too.
   */
  readonly columns: EndpointColumns;

  constructor(inflight?: InFlightSource) {
    this.columns = new EndpointColumns(inflight);
  }

  /** Every endpoint; the same array until something changes. */
  list(): readonly Endpoint[] {
    return this.all;
  }

  get(name: string): Endpoint | undefined {
    return this.byName.get(name);
  }

  /** Endpoints that serve `model` (base model or adapter), plus those whose models are unknown. */
  serving(model: string): readonly Endpoint[] {
    return this.byModel.get(model) ?? this.anyModel;
  }

  /** True when some endpoint says it serves `model` (unlike `serving`, endpoints of unknown models do not count). */
  names(model: string): boolean {
    return this.byModel.has(model);
  }

  /** All model names some endpoint reports serving. */
  models(): IterableIterator<string> {
    return this.byModel.keys();
  }

  /** Adds or replaces endpoints by name, keeping the metrics and scrape status of ones already known. */
  upsert(endpoints: readonly Omit<Endpoint, "metrics">[] | readonly Endpoint[]): void {
    for (const e of endpoints) {
      const known = this.byName.get(e.name);
      const metrics = "metrics" in e && e.metrics ? e.metrics : known?.metrics;
      const scrape = e.scrape ?? known?.scrape;
      const next: Endpoint = { ...e, metrics: metrics ?? EMPTY_METRICS };
      this.byName.set(e.name, scrape ? { ...next, scrape } : next);
      const slot = this.columns.assign(e.name);
      this.columns.writeMetrics(slot, next.metrics);
      this.columns.writeScrape(slot, scrape);
    }
    this.rebuild();
  }

  /** Replaces the whole set (what discovery sees now); unknown names are removed. */
  replaceAll(endpoints: readonly Omit<Endpoint, "metrics">[]): void {
    const keep = new Set(endpoints.map((e) => e.name));
    for (const name of this.byName.keys())
      if (!keep.has(name)) {
        this.byName.delete(name);
        this.columns.release(name);
      }
    this.upsert(endpoints);
  }

  remove(name: string): void {
    if (!this.byName.delete(name)) return;
    this.columns.release(name);
    this.rebuild();
  }

  /**
   * Swaps one endpoint's metrics snapshot in place: one reference assignment, so a
   * reader sees the whole old snapshot or the whole new one. No index rebuild: this
   * runs on every scrape of every endpoint.
   */
  setMetrics(name: string, metrics: MetricsSnapshot): void {
    const known = this.byName.get(name) as { metrics: MetricsSnapshot } | undefined;
    if (!known) return;
    known.metrics = metrics;
    this.columns.writeMetrics(this.columns.slot(name)!, metrics);
  }

  /**
   * Swaps one endpoint's scrape status in place, like `setMetrics`: the scraper calls it as
   * each scrape starts and ends, so scheduling can tell a late scrape from a dead pod.
   */
  setScrapeStatus(name: string, scrape: ScrapeStatus): void {
    const known = this.byName.get(name) as { scrape?: ScrapeStatus } | undefined;
    if (!known) return;
    known.scrape = scrape;
    this.columns.writeScrape(this.columns.slot(name)!, scrape);
  }

  /** Sets the models an endpoint serves (learned from its /v1/models). */
  setModels(name: string, models: ReadonlySet<string>): void {
    const known = this.byName.get(name);
    if (!known || sameSet(known.models, models)) return;
    this.byName.set(name, { ...known, models });
    this.rebuild();
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private rebuild(): void {
    const all = [...this.byName.values()];
    const byModel = new Map<string, Endpoint[]>();
    const anyModel: Endpoint[] = [];
    for (const e of all) {
      if (e.models.size === 0) anyModel.push(e);
      for (const m of e.models) {
        const list = byModel.get(m);
        if (list) list.push(e);
        else byModel.set(m, [e]);
      }
    }
    for (const list of byModel.values()) list.push(...anyModel);
    this.all = Object.freeze(all);
    this.byModel = new Map([...byModel].map(([k, v]) => [k, Object.freeze(v)]));
    this.anyModel = Object.freeze(anyModel);
    const columns = this.columns;
    columns.reindex();
    columns.index(this.all);
    columns.index(this.anyModel);
    for (const list of this.byModel.values()) columns.index(list);
    for (const l of this.listeners) l();
  }
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
