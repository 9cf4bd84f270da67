/**
 * One collection kept in sync with the API server by the list-then-watch protocol:
 *
 *   LIST  (paged with limit/continue) -> items + metadata.resourceVersion (RV)
 *   WATCH ?watch=1&resourceVersion=RV&allowWatchBookmarks=true&timeoutSeconds=T
 *         -> newline-delimited JSON events {type, object}
 *
 * - ADDED/MODIFIED/DELETED update the items; every event's object RV becomes the RV.
 * - BOOKMARK only advances the RV, so a re-watch resumes from it.
 * - The server ending the stream (timeoutSeconds, a load balancer) -> re-watch from the RV.
 * - 410 Gone (HTTP status, or an ERROR event whose Status code is 410) -> re-LIST and
 *   replace the items wholesale; the old items stay in force until the list succeeds.
 * - 404 on the collection (its CRD is not installed) -> logged once, items emptied, the
 *   reflector counts as synced, and the list is retried every `notInstalledRetryMs`.
 * - Network errors and other statuses -> capped exponential backoff, then retry (from the RV).
 * `stop()` aborts the request in flight and every wait; nothing is left scheduled.
 */
import { type SetTimer, systemTimer } from "../clock.ts";
import type { Logger } from "../log.ts";
import type { ApiClient } from "./api-client.ts";
import { ApiError } from "./api-error.ts";
import { Backoff, sleep, withDeadline } from "./timing.ts";

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; [k: string]: unknown };
  [k: string]: unknown;
}

export interface WatchTuning {
  backoffMinMs: number;
  backoffMaxMs: number;
  /** Retry period for a collection that answered 404 (CRD not installed). */
  notInstalledRetryMs: number;
  /** Asked of the server per watch, randomised in [T, 2T) like client-go; the client gives up 30 s later. */
  watchTimeoutSeconds: number;
  /** Deadline for each LIST page. */
  requestTimeoutMs: number;
  /** `limit` of each LIST page. */
  pageSize: number;
  /**
   * Discovery: how long the first report of pools waits for every namespace's pools to be
   * listed; past it, the namespaces that answered are served (one that cannot be read, a
   * missing RoleBinding, must not keep every pool out).
   */
  firstSyncWaitMs: number;
  /** Timers for back-off waits and deadlines; real ones by default (tests pass a fake). */
  setTimer: SetTimer;
}

export const DEFAULT_TUNING: WatchTuning = {
  backoffMinMs: 100,
  backoffMaxMs: 5_000,
  notInstalledRetryMs: 60_000,
  watchTimeoutSeconds: 300,
  requestTimeoutMs: 30_000,
  pageSize: 500,
  firstSyncWaitMs: 10_000,
  setTimer: systemTimer,
};

/** Longest watch line accepted (one object); past it the stream is dropped and re-watched. */
const MAX_LINE = 32 * 1024 * 1024;

export interface ReflectorOptions<T> {
  client: ApiClient;
  /** Collection path, e.g. `/api/v1/namespaces/ns/pods`. */
  path: string;
  /** `labelSelector`, `fieldSelector`. */
  query?: Record<string, string>;
  /** For logs, e.g. `pods (app=vllm)`. */
  what: string;
  /** apiVersion/kind to assume for list items that omit them (core lists do). */
  kind: { apiVersion: string; kind: string };
  /** Projects an object to what is kept; undefined = skip it (the decoder logs why). */
  decode(obj: KubeObject): T | undefined;
  /** Called with every item (by metadata.name) after a list and after each batch of events. */
  onChange(items: ReadonlyMap<string, T>): void;
  logger: Logger;
  tuning?: Partial<WatchTuning>;
  random?: () => number;
}

type WatchOutcome = { gone: boolean; lines: number };

export class Reflector<T> {
  readonly synced: Promise<void>;
  private markSynced!: () => void;
  private readonly abort = new AbortController();
  private readonly tuning: WatchTuning;
  private readonly backoff: Backoff;
  private items = new Map<string, T>();
  private rv: string | undefined;
  private running: Promise<void> | undefined;
  private lastError: string | undefined;
  private emitted = false;

  constructor(private readonly opts: ReflectorOptions<T>) {
    this.tuning = { ...DEFAULT_TUNING, ...opts.tuning };
    this.backoff = new Backoff(this.tuning.backoffMinMs, this.tuning.backoffMaxMs, opts.random);
    this.synced = new Promise((resolve) => {
      this.markSynced = resolve;
    });
  }

  /** The last resourceVersion seen (list, event or bookmark); undefined before the first list. */
  get resourceVersion(): string | undefined {
    return this.rv;
  }

  start(): this {
    this.running ??= this.run();
    return this;
  }

  async stop(): Promise<void> {
    this.abort.abort(new Error("stopped"));
    await this.running;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let notInstalled = false;
    while (!signal.aborted) {
      try {
        if (this.rv === undefined) {
          await this.list(signal);
          if (notInstalled)
            this.opts.logger.info("kubernetes: collection is now served", { what: this.opts.what });
          notInstalled = false;
          this.markSynced();
        }
        const { gone, lines } = await this.watch(this.rv!, signal);
        if (gone) {
          this.opts.logger.info("kubernetes: resourceVersion too old (410 Gone), re-listing", {
            what: this.opts.what,
            resourceVersion: this.rv,
          });
          this.rv = undefined;
        } else if (lines === 0) {
          await this.sleep(this.backoff.next(), signal); // an empty stream: do not spin
        } else {
          this.backoff.reset();
        }
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof ApiError && err.status === 404) {
          if (!notInstalled) {
            this.opts.logger.warn("kubernetes: collection not found (CRD not installed?); retrying slowly", {
              what: this.opts.what,
              retryMs: this.tuning.notInstalledRetryMs,
            });
          }
          notInstalled = true;
          this.rv = undefined;
          this.replace(new Map());
          this.markSynced();
          await this.sleep(this.tuning.notInstalledRetryMs, signal);
          continue;
        }
        this.failed(err);
        await this.sleep(this.backoff.next(), signal);
      }
    }
  }

  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    return sleep(ms, signal, this.tuning.setTimer);
  }

  private withDeadline<R>(signal: AbortSignal, ms: number, fn: (sig: AbortSignal) => Promise<R>): Promise<R> {
    return withDeadline(signal, ms, fn, this.tuning.setTimer);
  }

  /** Lists every page, then replaces the items and sets the RV. */
  private async list(signal: AbortSignal): Promise<void> {
    const items = new Map<string, T>();
    let cont: string | undefined;
    let rv: string | undefined;
    for (let restarts = 0; ; ) {
      const query: Record<string, string> = { ...this.opts.query, limit: String(this.tuning.pageSize) };
      if (cont) query["continue"] = cont;
      const page = await this.withDeadline(signal, this.tuning.requestTimeoutMs, async (sig) => {
        const res = await this.opts.client.get(this.opts.path, query, sig);
        if (res.status === 410 && cont) {
          await res.body?.cancel();
          return undefined; // the continue token expired: start the list over
        }
        if (!res.ok) throw await ApiError.from(res, `list ${this.opts.what}`);
        return (await res.json()) as {
          metadata?: { resourceVersion?: string; continue?: string };
          items?: unknown;
        };
      });
      if (!page) {
        if (++restarts > 3)
          throw new Error(`list ${this.opts.what}: continue token expired ${restarts} times`);
        items.clear();
        cont = undefined;
        continue;
      }
      for (const item of Array.isArray(page.items) ? (page.items as KubeObject[]) : []) this.put(items, item);
      rv = page.metadata?.resourceVersion;
      cont = page.metadata?.continue || undefined;
      if (!cont) break;
    }
    if (!rv) throw new Error(`list ${this.opts.what}: the answer has no metadata.resourceVersion`);
    this.rv = rv;
    this.recovered();
    this.replace(items);
  }

  /** One watch request, read to its end. */
  private async watch(rv: string, signal: AbortSignal): Promise<WatchOutcome> {
    const random = this.opts.random ?? Math.random;
    const timeout = Math.floor(this.tuning.watchTimeoutSeconds * (1 + random()));
    const query: Record<string, string> = {
      ...this.opts.query,
      watch: "1",
      resourceVersion: rv,
      allowWatchBookmarks: "true",
      timeoutSeconds: String(timeout),
    };
    return this.withDeadline(signal, (timeout + 30) * 1000, async (sig) => {
      const res = await this.opts.client.get(this.opts.path, query, sig);
      if (res.status === 410) {
        await res.body?.cancel();
        return { gone: true, lines: 0 };
      }
      if (!res.ok || !res.body) throw await ApiError.from(res, `watch ${this.opts.what}`);
      this.recovered();
      return this.read(res.body.getReader(), sig);
    });
  }

  /**
   * Reads events to the end of the stream. Changes are announced once per chunk, and also
   * when the stream fails halfway (what was applied stays applied). Abort cancels the
   * reader, so a transport that does not tie the body to the signal cannot hang `stop()`.
   */
  private async read(
    reader: ReadableStreamDefaultReader<Uint8Array>,
    signal: AbortSignal,
  ): Promise<WatchOutcome> {
    const cancel = () => reader.cancel().catch(() => {});
    if (signal.aborted) cancel();
    else signal.addEventListener("abort", cancel, { once: true });
    const decoder = new TextDecoder();
    let buffer = "";
    let lines = 0;
    let changed = false;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || signal.aborted) return { gone: false, lines };
        buffer += decoder.decode(value, { stream: true });
        if (buffer.length > MAX_LINE)
          throw new Error(`watch ${this.opts.what}: an event line over ${MAX_LINE} bytes`);
        const parts = buffer.split("\n");
        buffer = parts.pop() ?? "";
        for (const line of parts) {
          if (!line.trim()) continue;
          lines++;
          const result = this.apply(JSON.parse(line) as { type?: string; object?: KubeObject });
          if (result === "gone") return { gone: true, lines };
          changed ||= result === "changed";
        }
        if (changed) this.opts.onChange(this.items);
        changed = false;
      }
    } finally {
      signal.removeEventListener("abort", cancel);
      cancel();
      if (changed && !signal.aborted) this.opts.onChange(this.items);
    }
  }

  /** Applies one watch event to the items. */
  private apply(event: { type?: string; object?: KubeObject }): "changed" | "gone" | "none" {
    const obj = event.object ?? {};
    const name = obj.metadata?.name;
    const rv = obj.metadata?.resourceVersion;
    switch (event.type) {
      case "ADDED":
      case "MODIFIED":
        if (rv) this.rv = rv;
        if (!name) return "none";
        if (!this.put(this.items, obj)) this.items.delete(name);
        return "changed";
      case "DELETED":
        if (rv) this.rv = rv;
        return name && this.items.delete(name) ? "changed" : "none";
      case "BOOKMARK":
        if (rv) this.rv = rv;
        return "none";
      case "ERROR": {
        const err = ApiError.fromStatus(obj as Record<string, unknown>, `watch ${this.opts.what}`);
        if (err.status === 410) return "gone";
        throw err;
      }
      default:
        this.opts.logger.debug("kubernetes: unknown watch event ignored", {
          what: this.opts.what,
          type: event.type,
        });
        return "none";
    }
  }

  /** Decodes `obj` into `into`; false when it was skipped. */
  private put(into: Map<string, T>, obj: KubeObject): boolean {
    const name = obj.metadata?.name;
    if (!name) return false;
    const full = obj.apiVersion && obj.kind ? obj : { ...this.opts.kind, ...obj };
    const decoded = this.opts.decode(full);
    if (decoded === undefined) return false;
    into.set(name, decoded);
    return true;
  }

  /** Swaps the whole item set; an empty set replacing an empty set is not news after the first time. */
  private replace(items: Map<string, T>): void {
    if (items.size === 0 && this.items.size === 0 && this.emitted) return;
    this.items = items;
    this.emitted = true;
    this.opts.onChange(this.items);
  }

  private failed(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (message === this.lastError) {
      this.opts.logger.debug("kubernetes: still failing", { what: this.opts.what, error: message });
      return;
    }
    this.lastError = message;
    this.opts.logger.error("kubernetes: request failed; retrying with backoff", {
      what: this.opts.what,
      error: message,
    });
  }

  private recovered(): void {
    if (this.lastError === undefined) return;
    this.lastError = undefined;
    this.opts.logger.info("kubernetes: connection recovered", { what: this.opts.what });
  }
}
