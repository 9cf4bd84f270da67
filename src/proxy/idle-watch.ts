/**
 * A relayed stream's idle watch (src/proxy/relay.ts): how long the pod has sent nothing while
 * the client waits for more.
 */
import type { Clock, SetTimer } from "../clock.ts";
import type { ChunkSource } from "./relay.ts";

/** What a stream the pod fell silent on ends with. */
export class IdleTimeout extends Error {
  constructor(ms: number) {
    super(`no data from the model server for ${ms} ms`);
  }
}

/**
 * One timer per stream (not one per chunk): it only counts while a read is pending, so
 * a slow client is never taken for a silent pod. When it fires it cancels the reader,
 * which ends the pending read; `fired` tells the reader why. A class, not an object of
 * closures: `waiting` runs for every chunk from the relay's optimized code, and closures made
 * per stream get such callers thrown away by JSC (docs/overhead-streaming.md, nineteenth pass).
 */
export class IdleWatch {
  fired = false;
  private since: number | undefined = undefined;
  private cancelTimer: (() => void) | undefined = undefined;
  /** The timer's callback, made at the first arm (timers call it, no JS caller inlines it). */
  private onTimer: (() => void) | undefined = undefined;

  constructor(
    private readonly ms: number,
    private readonly reader: ChunkSource,
    private readonly time: { clock: Clock; setTimer: SetTimer },
  ) {}

  waiting(on: boolean): void {
    this.since = on ? this.time.clock.now() : undefined;
    if (on && this.cancelTimer === undefined) this.arm(this.ms);
  }

  stop(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  private arm(ms: number): void {
    this.onTimer ??= () => this.check();
    this.cancelTimer = this.time.setTimer(this.onTimer, ms);
  }

  private check(): void {
    this.cancelTimer = undefined;
    const since = this.since;
    if (since === undefined) return; // not waiting: re-armed by the next read
    const waited = this.time.clock.now() - since;
    if (waited >= this.ms) {
      this.fired = true;
      void this.reader.cancel(new IdleTimeout(this.ms)).catch(() => {});
    } else this.arm(this.ms - waited);
  }
}
