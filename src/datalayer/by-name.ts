/**
 * Asking a pod for the mapped metrics only: Python's prometheus_client (vLLM, SGLang) serves
 * just the samples named by `name[]` query parameters (its restricted registry), where a
 * vLLM pod's full page is 25-160 KB of histograms of which the gateway reads a handful of
 * gauges. Whether a pod answers so is checked per target, against its own full page:
 *
 * - the first scrape asks in full and keeps which wanted metrics the page held;
 * - later scrapes ask by name while the answer holds all of them;
 * - one that does not, or fails, is followed at once by the page in full, and the pod is
 *   asked by name again only if its answer held all of that page (its metrics changed).
 *
 * A multiprocess registry (SGLang's, vLLM's with several API servers) knows no names and
 * answers by name with an empty page: such a pod is asked in full from then on, and checked
 * again after `RECHECK_AFTER` scrapes in full (~10 min at the default 50 ms: a pod restarted
 * another way, or a request by name that failed once, is not asked in full for good).
 * Servers that ignore the parameters (llama.cpp, Triton) answer in full either way.
 */
import { parsePromText, type Sample } from "./prom-text.ts";

/** A target's answer to "does this pod answer by name" (kept on the scraper's target state). */
export interface ByNameState {
  /**
   * undefined before the first scrape (asked in full), else the wanted metrics the pod's full
   * page held, which each answer by name must hold too; `false`: ask in full.
   */
  byName: ReadonlySet<string> | false | undefined;
  /** Scrapes asked in full since `byName` went false (then checked again at `RECHECK_AFTER`). */
  inFull?: number;
}

/** Scrapes in full before a pod that did not answer by name is checked again. */
export const RECHECK_AFTER = 12_000;

type Families = Map<string, Sample[]>;

/**
 * The wanted metrics' samples of the pod at `url`, asked by name or in full as `st` says
 * (and `st` updated). `page` fetches a URL's text and throws on a non-2xx answer; a failure
 * of the request by name is taken as "asked in full next" unless `aborted()` (the scrape
 * was abandoned or cancelled: then it is the scrape's failure).
 */
export async function wantedFamilies(
  st: ByNameState,
  url: string,
  wanted: ReadonlySet<string>,
  page: (url: string) => Promise<string>,
  aborted: () => boolean,
  recheckAfter = RECHECK_AFTER,
): Promise<Families> {
  const known = st.byName;
  if (known === false || known === undefined) {
    const full = parsePromText(await page(url), wanted).families;
    if (known === undefined) st.byName = new Set(full.keys());
    else {
      st.inFull = (st.inFull ?? 0) + 1;
      if (st.inFull >= recheckAfter) {
        // Checked again: this page's metrics are what the next answer by name must hold.
        st.byName = new Set(full.keys());
        st.inFull = 0;
      }
    }
    return full;
  }
  let named: Families | undefined;
  try {
    named = parsePromText(await page(byNameUrl(url, wanted)), wanted).families;
  } catch (err) {
    if (aborted()) throw err;
    // Refused by name (e.g. a proxy that takes no query): asked in full below.
  }
  if (named !== undefined && holdsAll(named, known)) return named;
  const full = parsePromText(await page(url), wanted).families;
  st.byName = named !== undefined && holdsAll(named, full.keys()) ? new Set(full.keys()) : false;
  return full;
}

/** `url` asking for the `wanted` samples only (`?name[]=a&name[]=b`), made once per URL and set. */
const BY_NAME = new WeakMap<ReadonlySet<string>, Map<string, string>>();

export function byNameUrl(url: string, wanted: ReadonlySet<string>): string {
  let urls = BY_NAME.get(wanted);
  if (urls === undefined) {
    urls = new Map();
    BY_NAME.set(wanted, urls);
  }
  let made = urls.get(url);
  if (made === undefined) {
    const query = [...wanted].map((n) => `name%5B%5D=${encodeURIComponent(n)}`).join("&");
    made = `${url}${url.includes("?") ? "&" : "?"}${query}`;
    // Bounded by the targets: a target's URL changes only when its pod does.
    if (urls.size >= 4096) urls.clear();
    urls.set(url, made);
  }
  return made;
}

/** Whether `families` holds a sample of every name in `names`. */
function holdsAll(families: ReadonlyMap<string, readonly Sample[]>, names: Iterable<string>): boolean {
  for (const n of names) if (!(families.get(n)?.length ?? 0)) return false;
  return true;
}
