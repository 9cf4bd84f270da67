/**
 * A fake Kubernetes API server on loopback that speaks the real protocol, for discovery tests.
 *
 * - Collections: `/api/v1/namespaces/{ns}/pods` and `/apis/{group}/{version}/namespaces/{ns}/{plural}`
 *   for InferencePool and both groups of InferenceObjective / InferenceModelRewrite;
 *   `.../{plural}/{name}` answers a single object. Uninstalled CRDs answer 404 (Status).
 * - LIST: `{kind: "<Kind>List", apiVersion, metadata: {resourceVersion, continue?}, items}`;
 *   `labelSelector` (k=v, k==v, k!=v, k, !k), `fieldSelector` (metadata.name/namespace),
 *   `limit` + `continue` (pages come from a snapshot, like etcd). Core list items carry no
 *   apiVersion/kind, like the real server; custom resource items do.
 * - WATCH (`watch=1|true`): chunked newline-delimited JSON `{type, object}` with one global,
 *   monotonically increasing resourceVersion. From an RV: replays history after it; from none
 *   or "0": synthetic ADDED for the current state. A label-selected watch turns "stopped
 *   matching" into DELETED and "started matching" into ADDED, like the watch cache.
 *   From an RV older than the compaction point: a 200 with one ERROR event (Status 410 Gone).
 *   BOOKMARK events every `bookmarkIntervalMs` when `allowWatchBookmarks=true`;
 *   `timeoutSeconds` ends the stream.
 * - Auth: `Authorization: Bearer <token>` or 401 (Status).
 * - Test controls: apply/remove objects, compact history, end or expire open watches,
 *   send bookmarks now, restart (drop every connection, refuse for a while, come back with
 *   state intact and optionally compacted history).
 */
import type { Server } from "bun";
import type { KubeObject } from "../../src/kubernetes/reflector.ts";
import { selectorFilter, status, stripTypeMeta } from "./fake-protocol.ts";

interface ResourceType {
  apiVersion: string;
  kind: string;
  plural: string;
}

const TYPES: ResourceType[] = [
  { apiVersion: "v1", kind: "Pod", plural: "pods" },
  { apiVersion: "inference.networking.k8s.io/v1", kind: "InferencePool", plural: "inferencepools" },
  ...["inference.networking.x-k8s.io/v1alpha2", "llm-d.ai/v1alpha2"].flatMap((apiVersion) => [
    { apiVersion, kind: "InferenceObjective", plural: "inferenceobjectives" },
    { apiVersion, kind: "InferenceModelRewrite", plural: "inferencemodelrewrites" },
  ]),
];
const typeKey = (apiVersion: string, plural: string) => `${apiVersion}/${plural}`;

type EventType = "ADDED" | "MODIFIED" | "DELETED";
interface Change {
  rv: number;
  type: ResourceType;
  ns: string;
  event: EventType;
  object: KubeObject;
  prev: KubeObject | undefined;
}

interface Watcher {
  type: ResourceType;
  ns: string;
  filter: (o: KubeObject) => boolean;
  bookmarks: boolean;
  send(type: string, object: unknown): void;
  close(): void;
}

export interface RecordedRequest {
  path: string;
  query: Record<string, string>;
  watch: boolean;
  status: number;
}

export interface FakeApiServerOptions {
  token?: string;
  /** Periodic BOOKMARK interval for watches that allow them; 0 = only `sendBookmarks()`. */
  bookmarkIntervalMs?: number;
  /** API groups/versions whose CRDs are installed; default all. Core v1 is always served. */
  installed?: string[];
  /** Serve https with this certificate (PEM) instead of plain http. */
  tls?: { cert: string; key: string };
}

export class FakeApiServer {
  token: string;
  readonly requests: RecordedRequest[] = [];
  private server: Server<undefined> | undefined;
  private port = 0;
  private rv = 100;
  private compactedRv = 0;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly history: Change[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly pages = new Map<string, { rv: number; items: KubeObject[] }>();
  private readonly installed: Set<string>;
  private uid = 0;

  private constructor(private readonly opts: FakeApiServerOptions) {
    this.token = opts.token ?? "s3cret-token";
    this.installed = new Set(opts.installed ?? TYPES.map((t) => t.apiVersion));
    this.installed.add("v1");
  }

  static async start(opts: FakeApiServerOptions = {}): Promise<FakeApiServer> {
    const s = new FakeApiServer(opts);
    s.listen();
    return s;
  }

  get url(): string {
    return `${this.opts.tls ? "https" : "http"}://127.0.0.1:${this.port}`;
  }

  /** The current global resourceVersion. */
  get resourceVersion(): string {
    return String(this.rv);
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  watchRequests(plural: string): RecordedRequest[] {
    return this.requests.filter((r) => r.watch && r.path.endsWith(`/${plural}`));
  }

  install(apiVersion: string): void {
    this.installed.add(apiVersion);
  }

  uninstall(apiVersion: string): void {
    this.installed.delete(apiVersion);
    for (const w of this.watchers) if (w.type.apiVersion === apiVersion) w.close();
  }

  // ---- state changes ---------------------------------------------------------------

  /** Creates or replaces an object (by apiVersion, kind, namespace, name). */
  apply(obj: KubeObject): KubeObject {
    const type = this.typeOf(obj);
    const ns = obj.metadata?.namespace ?? "default";
    const store = this.store(type);
    const key = `${ns}/${obj.metadata?.name}`;
    const prev = store.get(key);
    const rv = ++this.rv;
    const metadata = {
      ...obj.metadata,
      namespace: ns,
      uid: prev?.metadata?.["uid"] ?? `uid-${++this.uid}`,
      creationTimestamp:
        obj.metadata?.["creationTimestamp"] ??
        prev?.metadata?.["creationTimestamp"] ??
        new Date().toISOString(),
      resourceVersion: String(rv),
    };
    const stored = structuredClone({ ...obj, apiVersion: type.apiVersion, kind: type.kind, metadata });
    store.set(key, stored);
    this.record({ rv, type, ns, event: prev ? "MODIFIED" : "ADDED", object: stored, prev });
    return stored;
  }

  /** Reads, edits (a copy) and applies an object. */
  update(
    apiVersion: string,
    kind: string,
    name: string,
    edit: (o: KubeObject) => void,
    ns = "llm",
  ): KubeObject {
    const type = this.typeOf({ apiVersion, kind });
    const current = this.store(type).get(`${ns}/${name}`);
    if (!current) throw new Error(`no ${kind} ${ns}/${name}`);
    const copy = structuredClone(current);
    edit(copy);
    return this.apply(copy);
  }

  remove(apiVersion: string, kind: string, name: string, ns = "llm"): void {
    const type = this.typeOf({ apiVersion, kind });
    const store = this.store(type);
    const prev = store.get(`${ns}/${name}`);
    if (!prev) throw new Error(`no ${kind} ${ns}/${name}`);
    store.delete(`${ns}/${name}`);
    const rv = ++this.rv;
    const object = { ...prev, metadata: { ...prev.metadata, resourceVersion: String(rv) } };
    this.record({ rv, type, ns, event: "DELETED", object, prev });
  }

  setPodReady(name: string, ready: boolean): void {
    this.update("v1", "Pod", name, (p) => {
      const conditions = (p["status"] as { conditions: { type: string; status: string }[] }).conditions;
      for (const c of conditions)
        if (c.type === "Ready" || c.type === "ContainersReady") c.status = ready ? "True" : "False";
    });
  }

  setPodIP(name: string, ip: string | undefined): void {
    this.update("v1", "Pod", name, (p) => {
      const s = p["status"] as Record<string, unknown>;
      if (ip) Object.assign(s, { podIP: ip, podIPs: [{ ip }] });
      else {
        delete s["podIP"];
        delete s["podIPs"];
      }
    });
  }

  /** Graceful deletion has begun: the pod gets a deletionTimestamp and stays listed for a while. */
  terminatePod(name: string): void {
    this.update("v1", "Pod", name, (p) => {
      p.metadata!["deletionTimestamp"] = new Date().toISOString();
      p.metadata!["deletionGracePeriodSeconds"] = 30;
    });
  }

  // ---- protocol controls -------------------------------------------------------------

  /** Forgets history up to now: watching from any older RV answers 410 Gone. */
  compact(): void {
    this.compactedRv = this.rv;
    this.history.splice(0, this.history.length);
    this.pages.clear();
  }

  /** Sends an ERROR 410 on every open watch and closes it (the watch cache fell behind). */
  expireWatches(): void {
    for (const w of [...this.watchers]) {
      w.send("ERROR", status(410, "Expired", "too old resource version"));
      w.close();
    }
  }

  /** Ends every open watch stream cleanly, as `timeoutSeconds` would. */
  endWatches(): void {
    for (const w of [...this.watchers]) w.close();
  }

  /** A BOOKMARK at the current RV on every open watch that allows them; returns that RV. */
  sendBookmarks(): string {
    for (const w of this.watchers) if (w.bookmarks) w.send("BOOKMARK", this.bookmark(w.type));
    return this.resourceVersion;
  }

  /**
   * Simulates an API server restart: every connection drops at once, new ones are refused
   * while `during` runs (state changes made there happen "while down"), then the server
   * listens again on the same port after at least `downMs`.
   */
  async restart(opts: { downMs?: number; compact?: boolean; during?: () => void | Promise<void> } = {}) {
    const started = Date.now();
    this.dropAll();
    await opts.during?.();
    if (opts.compact) this.compact();
    const wait = (opts.downMs ?? 300) - (Date.now() - started);
    if (wait > 0) await Bun.sleep(wait);
    this.listen();
  }

  async stop(): Promise<void> {
    this.dropAll();
  }

  // ---- HTTP --------------------------------------------------------------------------

  private listen(): void {
    this.server = Bun.serve({
      hostname: "127.0.0.1",
      port: this.port,
      idleTimeout: 0,
      ...(this.opts.tls ? { tls: this.opts.tls } : {}),
      fetch: (req) => this.handle(req),
    });
    this.port = this.server.port ?? 0;
  }

  /** Drops every connection at once (no clean end of stream), like a crashed process. */
  private dropAll(): void {
    this.server?.stop(true);
    this.server = undefined;
    for (const w of [...this.watchers]) w.close();
  }

  private handle(req: Request): Response {
    const url = new URL(req.url);
    const query = Object.fromEntries(url.searchParams);
    const watch = query["watch"] === "1" || query["watch"] === "true";
    const res = this.route(req, url, watch);
    this.requests.push({ path: url.pathname, query, watch, status: res.status });
    return res;
  }

  private route(req: Request, url: URL, watch: boolean): Response {
    if (req.headers.get("authorization") !== `Bearer ${this.token}`) {
      return Response.json(status(401, "Unauthorized", "Unauthorized"), { status: 401 });
    }
    const m =
      /^\/api\/v1\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?$/.exec(url.pathname) ??
      /^\/apis\/([^/]+\/[^/]+)\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?$/.exec(url.pathname);
    const core = url.pathname.startsWith("/api/v1/");
    const [apiVersion, ns, plural, name] = core
      ? ["v1", m?.[1], m?.[2], m?.[3]]
      : [m?.[1], m?.[2], m?.[3], m?.[4]];
    const type = TYPES.find((t) => t.apiVersion === apiVersion && t.plural === plural);
    if (!m || !type || !ns || !this.installed.has(type.apiVersion)) {
      return Response.json(status(404, "NotFound", "the server could not find the requested resource"), {
        status: 404,
      });
    }
    if (req.method !== "GET")
      return Response.json(status(405, "MethodNotAllowed", "GET only"), { status: 405 });
    const q = url.searchParams;
    if (name) {
      const obj = this.store(type).get(`${ns}/${name}`);
      if (!obj)
        return Response.json(status(404, "NotFound", `${plural} "${name}" not found`), { status: 404 });
      return Response.json(obj);
    }
    const filter = selectorFilter(q.get("labelSelector"), q.get("fieldSelector"));
    return watch ? this.watch(type, ns, filter, q) : this.list(type, ns, filter, q);
  }

  private list(
    type: ResourceType,
    ns: string,
    filter: (o: KubeObject) => boolean,
    q: URLSearchParams,
  ): Response {
    const limit = Number(q.get("limit") ?? 0);
    const token = q.get("continue");
    let snapshot: { rv: number; items: KubeObject[] };
    let offset = 0;
    if (token) {
      const parsed = JSON.parse(atob(token)) as { id: string; offset: number };
      const found = this.pages.get(parsed.id);
      if (!found || found.rv < this.compactedRv) {
        return Response.json(status(410, "Expired", "The provided continue parameter is too old"), {
          status: 410,
        });
      }
      snapshot = found;
      offset = parsed.offset;
    } else {
      const items = [...this.store(type).entries()]
        .filter(([key, o]) => key.startsWith(`${ns}/`) && filter(o))
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([, o]) => (type.apiVersion === "v1" ? stripTypeMeta(o) : o));
      snapshot = { rv: this.rv, items };
    }
    const end = limit > 0 ? offset + limit : snapshot.items.length;
    const metadata: Record<string, string> = { resourceVersion: String(snapshot.rv) };
    if (end < snapshot.items.length) {
      const id = crypto.randomUUID();
      this.pages.set(id, snapshot);
      metadata["continue"] = btoa(JSON.stringify({ id, offset: end }));
    }
    return Response.json({
      kind: `${type.kind}List`,
      apiVersion: type.apiVersion,
      metadata,
      items: snapshot.items.slice(offset, end),
    });
  }

  private watch(
    type: ResourceType,
    ns: string,
    filter: (o: KubeObject) => boolean,
    q: URLSearchParams,
  ): Response {
    const from = q.get("resourceVersion");
    const bookmarks = q.get("allowWatchBookmarks") === "true";
    const timeoutSeconds = Number(q.get("timeoutSeconds") ?? 0);
    const encoder = new TextEncoder();
    const timers: ReturnType<typeof setTimeout>[] = [];
    let watcher: Watcher | undefined;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        let open = true;
        const w: Watcher = {
          type,
          ns,
          filter,
          bookmarks,
          send: (t, object) => {
            if (open) controller.enqueue(encoder.encode(`${JSON.stringify({ type: t, object })}\n`));
          },
          close: () => {
            if (!open) return;
            open = false;
            for (const t of timers) clearTimeout(t);
            this.watchers.delete(w);
            try {
              controller.close();
            } catch {
              // the connection is already gone
            }
          },
        };
        watcher = w;
        const fromRv = from && from !== "0" ? Number(from) : undefined;
        if (fromRv !== undefined && fromRv < this.compactedRv) {
          w.send(
            "ERROR",
            status(410, "Expired", `too old resource version: ${fromRv} (${this.compactedRv})`),
          );
          w.close();
          return;
        }
        if (fromRv === undefined) {
          for (const [key, o] of this.store(type))
            if (key.startsWith(`${ns}/`) && filter(o)) w.send("ADDED", o);
        } else {
          for (const c of this.history) if (c.rv > fromRv) this.deliver(w, c);
        }
        this.watchers.add(w);
        if (bookmarks && (this.opts.bookmarkIntervalMs ?? 1000) > 0) {
          timers.push(
            setInterval(() => w.send("BOOKMARK", this.bookmark(type)), this.opts.bookmarkIntervalMs ?? 1000),
          );
        }
        if (timeoutSeconds > 0) timers.push(setTimeout(() => w.close(), timeoutSeconds * 1000));
      },
      cancel: () => watcher?.close(),
    });
    return new Response(body, { headers: { "content-type": "application/json" } });
  }

  private bookmark(type: ResourceType) {
    return { kind: type.kind, apiVersion: type.apiVersion, metadata: { resourceVersion: String(this.rv) } };
  }

  private record(change: Change): void {
    this.history.push(change);
    for (const w of this.watchers) this.deliver(w, change);
  }

  /** Sends `c` to `w` as the watch cache would, turning selector transitions into ADDED/DELETED. */
  private deliver(w: Watcher, c: Change): void {
    if (w.type !== c.type || w.ns !== c.ns) return;
    const now = c.event !== "DELETED" && w.filter(c.object);
    const before = c.prev !== undefined && w.filter(c.prev);
    if (c.event === "DELETED") {
      if (before) w.send("DELETED", c.object);
    } else if (now && before) w.send("MODIFIED", c.object);
    else if (now) w.send("ADDED", c.object);
    else if (before) w.send("DELETED", c.object);
  }

  private typeOf(obj: { apiVersion?: string | undefined; kind?: string | undefined }): ResourceType {
    const type = TYPES.find((t) => t.apiVersion === obj.apiVersion && t.kind === obj.kind);
    if (!type) throw new Error(`fake apiserver: unknown type ${obj.apiVersion} ${obj.kind}`);
    return type;
  }

  private store(type: ResourceType): Map<string, KubeObject> {
    const key = typeKey(type.apiVersion, type.plural);
    const store = this.objects.get(key) ?? new Map<string, KubeObject>();
    this.objects.set(key, store);
    return store;
  }
}
