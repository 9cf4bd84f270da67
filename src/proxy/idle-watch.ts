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
 * which ends the pending read; `fired` tells the reader why.
 */
export function idleWatch(ms: number, reader: ChunkSource, time: { clock: Clock; setTimer: SetTimer }) {
  let since: number | undefined;
  let cancel: (() => void) | undefined;
  const state = {
    fired: false,
    waiting(on: boolean) {
      since = on ? time.clock.now() : undefined;
      if (on && cancel === undefined) cancel = time.setTimer(check, ms);
    },
    stop() {
      cancel?.();
      cancel = undefined;
    },
  };
  function check() {
    cancel = undefined;
    if (since === undefined) return; // not waiting: re-armed by the next read
    const waited = time.clock.now() - since;
    if (waited >= ms) {
      state.fired = true;
      void reader.cancel(new IdleTimeout(ms)).catch(() => {});
    } else {
      cancel = time.setTimer(check, ms - waited);
    }
  }
  return state;
}
