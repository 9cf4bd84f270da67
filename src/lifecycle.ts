/**
 * "Stop waiting": fired once, when shutdown's grace period is over, and watched by every
 * running request at once (attempts, whole-body reads, relays). An AbortSignal would do,
 * but Node prints a bare MaxListenersExceededWarning once more than 10 listen to one.
 */
export class Closing {
  private fired = false;
  private readonly listeners = new Set<() => void>();

  get closed(): boolean {
    return this.fired;
  }

  /** Calls `fn` once when closing (never, if it unsubscribes first); returns the unsubscribe. */
  onClose(fn: () => void): () => void {
    if (this.fired) {
      fn();
      return () => {};
    }
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  close(): void {
    if (this.fired) return;
    this.fired = true;
    const all = [...this.listeners];
    this.listeners.clear();
    for (const fn of all) fn();
  }
}
