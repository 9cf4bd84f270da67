import type { EndpointColumns, InFlightSource } from "./columns.ts";

/** One endpoint's count and the columns that mirror it. */
interface Count {
  n: number;
  /** Columns (a pool's endpoint store each) holding this endpoint, with its slot in them. */
  sinks: { columns: EndpointColumns; slot: number }[] | undefined;
}

/**
 * The gateway's own count of requests it has sent to each endpoint and not yet seen
 * finish. Exact at once, unlike scraped metrics, which lag by up to one scrape. Each pool's
 * endpoint store binds its endpoints (`bind`), and every change is written into its
 * columns too, so a decision reads the counts from there (src/endpoints/columns.ts).
 */
export class InFlight implements InFlightSource {
  private readonly counts = new Map<string, Count>();
  private sum = 0;

  get(name: string): number {
    return this.counts.get(name)?.n ?? 0;
  }

  total(): number {
    return this.sum;
  }

  /** Endpoints with a count or a binding held (requests out, or a pool's store holding them). */
  get tracked(): number {
    return this.counts.size;
  }

  /** Takes one slot on `name`; the returned handle gives it back exactly once. */
  acquire(name: string): { release(): void } {
    const count = this.entry(name);
    this.change(count, 1);
    this.sum++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.change(count, -1);
        if (count.n <= 0 && count.sinks === undefined && this.counts.get(name) === count)
          this.counts.delete(name);
        this.sum--;
      },
    };
  }

  bind(name: string, columns: EndpointColumns, slot: number): void {
    const c = this.entry(name);
    c.sinks ??= [];
    const sinks = c.sinks;
    const at = sinks.findIndex((s) => s.columns === columns);
    if (at >= 0) sinks[at]!.slot = slot;
    else sinks.push({ columns, slot });
    columns.inflight[slot] = c.n;
  }

  unbind(name: string, columns: EndpointColumns): void {
    const c = this.counts.get(name);
    if (c?.sinks === undefined) return;
    const left = c.sinks.filter((s) => s.columns !== columns);
    c.sinks = left.length > 0 ? left : undefined;
    if (c.sinks === undefined && c.n <= 0) this.counts.delete(name);
  }

  private entry(name: string): Count {
    let c = this.counts.get(name);
    if (c === undefined) {
      c = { n: 0, sinks: undefined };
      this.counts.set(name, c);
    }
    return c;
  }

  private change(c: Count, by: number): void {
    c.n += by;
    const sinks = c.sinks;
    if (sinks === undefined) return;
    for (let i = 0; i < sinks.length; i++) sinks[i]!.columns.inflight[sinks[i]!.slot] = c.n;
  }
}
