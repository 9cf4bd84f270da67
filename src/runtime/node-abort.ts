/**
 * A light AbortController for the pod calls the Node fetch makes (undici-fetch.ts).
 *
 * `attempt` makes one controller per try at a pod (timeouts, the client leaving, shutdown
 * and the relay abort the call through it). Under Node 20 the platform's signal is an
 * EventTarget re-prototyped into an AbortSignal: ~2.3 µs to build at 32 connections (the
 * profile's `createAbortSignal` from attempt), more per listener, and garbage the collector
 * walks. This one keeps what attempt, forward and the Node dispatcher use (`abort(reason)`,
 * `aborted`, `reason`, `throwIfAborted()`, 'abort' listeners called once, in order, in the
 * `abort` call as the platform does) as plain fields. The Node fetch offers it under
 * `Symbol.for("inference-gateway.abortController")` (`offerLightAborts`); it is no
 * `AbortSignal` (AbortSignal.any refuses it), so only the fetch that offered it gets it.
 */

/** Where a fetch offers its own controller for the calls made through it (read by src/proxy/attempt.ts). */
export const ABORT_CONTROLLER = Symbol.for("inference-gateway.abortController");

type Listener = (this: LightAbortSignal, event: { type: "abort" }) => void;

/** The signal half: what a call reads to learn it was aborted. */
export class LightAbortSignal {
  aborted = false;
  reason: unknown = undefined;
  /** The one upstream call this signal runs (node-dispatch.ts): told first, without a listener. */
  call: { aborted(reason: unknown): void } | undefined = undefined;
  #listeners: Listener[] | undefined;

  addEventListener(type: string, listener: Listener): void {
    if (type !== "abort" || this.aborted) return; // the platform calls no listener added after the abort
    const list = this.#listeners;
    if (!list) this.#listeners = [listener];
    else if (!list.includes(listener)) list.push(listener);
  }

  removeEventListener(type: string, listener: Listener): void {
    const list = this.#listeners;
    if (type !== "abort" || !list) return;
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
  }

  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }

  /** Aborts once: later calls change nothing. */
  _abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason === undefined ? abortError() : reason;
    const call = this.call;
    this.call = undefined;
    call?.aborted(this.reason);
    const list = this.#listeners;
    this.#listeners = undefined;
    if (!list) return;
    const event = { type: "abort" as const };
    for (const listener of list)
      try {
        listener.call(this, event);
      } catch (err) {
        // As an EventTarget does: a throwing listener does not stop the others.
        queueMicrotask(() => {
          throw err;
        });
      }
  }
}

/** The controller half, as `attempt` uses an AbortController. */
export class LightAbortController {
  readonly signal = new LightAbortSignal();

  abort(reason?: unknown): void {
    this.signal._abort(reason);
  }
}

/** The platform's reason for an abort without one. */
function abortError(): Error {
  return new DOMException("This operation was aborted", "AbortError");
}

/** `fetch`, offering LightAbortControllers for its calls (it must accept a LightAbortSignal as `init.signal`). */
export function offerLightAborts<F extends object>(fetch: F): F {
  return Object.assign(fetch, { [ABORT_CONTROLLER]: () => new LightAbortController() });
}
