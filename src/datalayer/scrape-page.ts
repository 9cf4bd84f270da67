/**
 * A scrape's HTTP side (src/datalayer/scraper.ts): one page read through the pod client,
 * with the light GET and light controller the gateway's own clients offer.
 */

/** The slice of `fetch` the scraper uses; `globalThis.fetch` fits, and so does a test double. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/**
 * Where the gateway's own fetches (Bun wire client, Node undici client: src/runtime/node-abort.ts)
 * offer a light controller for their calls. A platform AbortController costs each scrape a
 * signal (under Node an EventTarget re-prototyped, with a FinalizationRegistry entry) and an
 * abort listener in the call; the light one is two fields. Same `abort(reason)` semantics.
 */
const ABORT_CONTROLLER = Symbol.for("inference-gateway.abortController");

/**
 * Where the gateway's Bun wire client (src/runtime/bun-wire.ts) offers a light GET: the
 * answer's status and whole body, with no `Headers` parsed and no `Response` made (fourteenth
 * pass: a scrape reads nothing else). Same abort, keep-alive and decoding as its fetch.
 */
const LIGHT_GET = Symbol.for("inference-gateway.lightGet");

/** The light GET a fetch may offer under `LIGHT_GET`. */
type LightGet = (
  url: string,
  headers: Headers,
  signal: Controller["signal"],
) => Promise<{ status: number; body: Uint8Array }>;

/** A body's text as `Response.text()` gives it (UTF-8, a leading BOM dropped). */
const UTF8 = new TextDecoder();

/** What a scrape needs of its controller: `AbortController` and the light one both fit. */
export interface Controller {
  readonly signal: { readonly aborted: boolean; readonly reason: unknown };
  abort(reason?: unknown): void;
}

/**
 * The scrape request's headers, built once: each fetch would otherwise turn a plain object
 * into `Headers` per scrape. Nothing mutates request headers, so sharing one is safe.
 */
const SCRAPE_HEADERS = new Headers({ accept: "text/plain;version=0.0.4;q=1,*/*;q=0.1" });

/**
 * How a scrape reads a page through `fetch` (default: the global one): the light GET and
 * light controller where the gateway's own pod client offers them, else `fetch` and a
 * platform AbortController.
 */
export function pageReader(fetchOpt: FetchLike | undefined): {
  newController: () => Controller;
  /** The page at `url`, as text; throws on a non-2xx answer (its body read to the end). */
  page(url: string, controller: Controller): Promise<string>;
} {
  const fetchFn: FetchLike = fetchOpt ?? ((url, init) => fetch(url, init)); // unbound fetch throws on Workers
  const newController: () => Controller =
    (fetchOpt as { [ABORT_CONTROLLER]?: () => Controller } | undefined)?.[ABORT_CONTROLLER] ??
    (() => new AbortController());
  const lightGet = fetchOpt ? (fetchOpt as { [LIGHT_GET]?: LightGet })[LIGHT_GET] : undefined;
  async function page(url: string, controller: Controller): Promise<string> {
    if (lightGet) {
      // The body is read to the end before the answer resolves (the connection is reused).
      const { status, body } = await lightGet(url, SCRAPE_HEADERS, controller.signal);
      if (status < 200 || status > 299) throw new Error(`GET ${url}: HTTP ${status}`);
      return UTF8.decode(body);
    }
    const res = await fetchFn(url, { signal: controller.signal as AbortSignal, headers: SCRAPE_HEADERS });
    if (!res.ok) {
      await res.arrayBuffer(); // read to the end so the connection can be reused
      throw new Error(`GET ${url}: HTTP ${res.status}`);
    }
    return res.text();
  }
  return { newController, page };
}
