/**
 * "Stop waiting": fired once, when shutdown's grace period is over, and watched by every
 * running request at once (attempts, whole-body reads, relays). An AbortSignal would do,
 * but Node prints a bare MaxListenersExceededWarning once more than 10 listen to one.
 *
 * Every request subscribes and unsubscribes at least twice, so the subscribers live in
 * numbered slots that are reused (a free list), not in a Set: ~30 ns a subscription and its
 * end with 64 live, against 40-85 for Set add and delete (Bun, measured in a loop). A slot's
 * generation makes a second unsubscribe, after the slot went to someone else, a no-op.
 */
export class Closing {
  private fired = false;
  private readonly subscribers: (Subscriber | undefined)[] = [];
  private readonly generations: number[] = [];
  private readonly free: number[] = [];

  get closed(): boolean {
    return this.fired;
  }

  /**
   * `subscriber` is called, or aborted with `Error("shutting down")`, once when closing (at
   * once if closed already); the number returned ends the subscription through `unwatch`. No
   * function is made per subscription: the request path subscribes per request (issue 19,
   * sixth pass), and an unsubscribe closure called from the relay's optimized code got that
   * code thrown away by JSC (nineteenth pass; the `onClose` that returned one is gone).
   */
  watch(subscriber: Subscriber): number {
    if (this.fired) {
      notify(subscriber);
      return -1;
    }
    const { subscribers, generations, free } = this;
    const slot = free.length > 0 ? free.pop()! : subscribers.length;
    subscribers[slot] = subscriber;
    // Generations wrap well below 2^53 / SLOTS; a token stays unique while its slot is held.
    const generation = ((generations[slot] ?? 0) + 1) % GENERATIONS;
    generations[slot] = generation;
    return generation * SLOTS + slot;
  }

  /** Ends a `watch`; a second call, or one after the slot went to someone else, does nothing. */
  unwatch(token: number): void {
    if (token < 0 || this.fired) return;
    const slot = token % SLOTS;
    const generation = (token - slot) / SLOTS;
    const { generations } = this;
    if (generations[slot] !== generation) return;
    generations[slot] = (generation + 1) % GENERATIONS;
    this.subscribers[slot] = undefined;
    this.free.push(slot);
  }

  close(): void {
    if (this.fired) return;
    this.fired = true;
    const all = this.subscribers.slice();
    this.subscribers.length = 0;
    this.free.length = 0;
    // A subscriber watching twice is still told once (as when they were kept in a Set).
    const called = new Set<Subscriber>();
    for (const s of all) {
      if (s === undefined || called.has(s)) continue;
      called.add(s);
      notify(s);
    }
  }
}

/** What `Closing.watch` tells: a function to call, or a controller to abort. */
export type Subscriber = (() => void) | { abort(reason?: unknown): void };

/** Slots a token can name (concurrent subscriptions); the generation is the token's high part. */
const SLOTS = 2 ** 22;
const GENERATIONS = 2 ** 30;

function notify(s: Subscriber): void {
  if (typeof s === "function") s();
  else s.abort(new Error("shutting down"));
}
