/**
 * The gateway's own count of requests it has sent to each endpoint and not yet seen
 * finish. Exact at once, unlike scraped metrics, which lag by up to one scrape.
 */
export class InFlight {
  private readonly counts = new Map<string, number>();
  private sum = 0;

  get(name: string): number {
    return this.counts.get(name) ?? 0;
  }

  total(): number {
    return this.sum;
  }

  /** Takes one slot on `name`; the returned handle gives it back exactly once. */
  acquire(name: string): { release(): void } {
    this.counts.set(name, this.get(name) + 1);
    this.sum++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const n = this.get(name) - 1;
        if (n <= 0) this.counts.delete(name);
        else this.counts.set(name, n);
        this.sum--;
      },
    };
  }
}
