import type { Clock, SetTimer } from "../../src/clock.ts";

/** A fake clock with fake timers: time moves only when a test calls `advance`. */
export class FakeTime {
  private t = 1_000;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();

  readonly clock: Clock = { now: () => this.t };

  readonly setTimer: SetTimer = (fn, ms) => {
    const id = this.seq++;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return () => this.timers.delete(id);
  };

  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward, firing due timers in order (each at its own time). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const next = this.nextDue(end);
      if (next < 0) break;
      this.fire(next);
    }
    this.t = end;
  }

  /**
   * Like `advance`, but lets promise callbacks run before and after each timer fires, so
   * async code that awaits between timers (relays, retries, probes) moves as it would live.
   */
  async advanceAsync(ms: number): Promise<void> {
    const end = this.t + ms;
    await flushMicrotasks();
    for (;;) {
      const next = this.nextDue(end);
      if (next < 0) break;
      this.fire(next);
      await flushMicrotasks();
    }
    this.t = end;
    await flushMicrotasks();
  }

  private nextDue(end: number): number {
    let nextId = -1;
    let nextAt = Number.POSITIVE_INFINITY;
    for (const [id, timer] of this.timers)
      if (timer.at <= end && timer.at < nextAt) {
        nextAt = timer.at;
        nextId = id;
      }
    return nextId;
  }

  private fire(id: number): void {
    const timer = this.timers.get(id)!;
    this.timers.delete(id);
    this.t = Math.max(this.t, timer.at);
    timer.fn();
  }
}

/** Lets queued promise callbacks run (microtasks only, no real time). */
export async function flushMicrotasks(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}
