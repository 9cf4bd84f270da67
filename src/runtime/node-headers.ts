/**
 * A `Headers` for Node held as plain name/value pairs, with no webidl layer.
 *
 * Node 20's `Headers` is undici's JS class: every `get`, `set`, `append` and copy goes through
 * webidl conversions and brand checks, ~10 µs a request at profiler scale for the gateway's
 * header work (the client's headers read and copied for the pod, the pod's answer read,
 * copied for the client and turned into `writeHead`'s record). This one keeps the same
 * semantics (names case-insensitive and lower-cased, values trimmed of HTTP whitespace,
 * invalid names and values refused with a TypeError, repeated names joined with ", " or
 * "; " for `cookie`, `set-cookie` kept value by value, iteration sorted by name) over two
 * arrays. It is `instanceof Headers` and has every method of one, so stages, plugins' hooks
 * and @hono/node-server see a Headers; the platform's is built from it (by its iterator)
 * only where one is made from it (a platform Request or Response).
 *
 * The copies the proxy makes (src/proxy/headers.ts) ask it under `WITHOUT` for a copy
 * without some names, and the Node fetch (undici-fetch.ts) and writer (node-respond.ts) read
 * its pairs under `PAIRS`, so no platform Headers is built on the way.
 */

/** `h[WITHOUT](drop)`: a copy of the same kind without the names `drop` picks (src/proxy/headers.ts asks for it). */
export const WITHOUT = Symbol.for("inference-gateway.headersWithout");

/** `h[PAIRS]()`: the entries as iteration gives them, flat [name, value, ...] (lower-case names, sorted). */
export const PAIRS = Symbol.for("inference-gateway.headerPairs");

/** RFC 9110 token: what the platform accepts as a header name. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** The names the gateway reads and writes: lower-case letters, digits and dashes. */
const LOWER_TOKEN = /^[a-z0-9-]+$/;
/** NUL, CR, LF, and what is not a byte (the platform's ByteString conversion refuses it). */
const FORBIDDEN_VALUE = /[\0\r\n\u0100-\uffff]/;

const isHttpWhitespace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

/** A value with leading and trailing HTTP whitespace removed, as the platform stores it. */
function normalize(value: string): string {
  let end = value.length;
  if (end === 0 || (!isHttpWhitespace(value.charCodeAt(0)) && !isHttpWhitespace(value.charCodeAt(end - 1))))
    return value;
  let start = 0;
  while (start < end && isHttpWhitespace(value.charCodeAt(start))) start++;
  while (end > start && isHttpWhitespace(value.charCodeAt(end - 1))) end--;
  return value.slice(start, end);
}

/**
 * Names already checked, as given → lower-cased: the names code asks for are a few literal
 * strings (hashed once by V8), so a lookup (~15 ns) beats a regex test (~35 ns). Bounded:
 * names a client sends go through `fromRaw`, which does not use it.
 */
const CHECKED = new Map<string, string>();
const CHECKED_MAX = 256;

/** `checkedName` for names given to the methods: from `CHECKED` when seen before. */
function knownName(method: string, name: unknown): string {
  if (typeof name === "string") {
    const hit = CHECKED.get(name);
    if (hit !== undefined) return hit;
  }
  const lower = checkedName(method, name);
  if (typeof name === "string" && CHECKED.size < CHECKED_MAX) CHECKED.set(name, lower);
  return lower;
}

function checkedName(method: string, name: unknown): string {
  const s = typeof name === "string" ? name : String(name);
  // Fast path: a name in lower case already (every name the gateway itself asks for) needs
  // no lower-casing (one regex test: measured faster than a loop over its characters).
  if (LOWER_TOKEN.test(s)) return s;
  if (!TOKEN.test(s)) throw new TypeError(`Headers.${method}: "${s}" is an invalid header name.`);
  return s.toLowerCase();
}

function checkedValue(method: string, value: unknown): string {
  const s = normalize(String(value));
  if (FORBIDDEN_VALUE.test(s)) throw new TypeError(`Headers.${method}: "${s}" is an invalid header value.`);
  return s;
}

type Init = Iterable<readonly [string, string]> | Record<string, string> | undefined;

export class LightHeaders {
  /** Lower-case names, one entry per name except set-cookie (one per value). */
  #names: string[] = [];
  #values: string[] = [];

  constructor(init?: Init) {
    if (init === undefined) return;
    if (init === null || (typeof init !== "object" && typeof init !== "function"))
      throw new TypeError("Headers constructor: Argument 1 could not be converted to a sequence or record.");
    if (typeof (init as Iterable<unknown>)[Symbol.iterator] === "function") {
      for (const pair of init as Iterable<readonly [string, string]>) {
        if (pair.length !== 2)
          throw new TypeError("Headers constructor: expected name/value pair to be length 2.");
        this.append(pair[0], pair[1]);
      }
    } else for (const name of Object.keys(init)) this.append(name, (init as Record<string, string>)[name]!);
  }

  /**
   * Headers from raw pairs as Node's parser gives them ([name, value, ...], names in any
   * case); checked as `append` checks them.
   */
  static fromRaw(raw: readonly string[]): LightHeaders {
    const h = new LightHeaders();
    for (let i = 0; i < raw.length; i += 2)
      h.#add(checkedName("append", raw[i]), checkedValue("append", raw[i + 1]));
    return h;
  }

  #index(lower: string): number {
    const names = this.#names;
    for (let i = 0; i < names.length; i++) if (names[i] === lower) return i;
    return -1;
  }

  /** Appends a checked pair: a repeated name joins the value already there (set-cookie stays apart). */
  #add(lower: string, value: string): void {
    if (lower !== "set-cookie") {
      const i = this.#index(lower);
      if (i >= 0) {
        this.#values[i] = `${this.#values[i]}${lower === "cookie" ? "; " : ", "}${value}`;
        return;
      }
    }
    this.#names.push(lower);
    this.#values.push(value);
  }

  #remove(lower: string): void {
    const names = this.#names;
    for (let i = names.length - 1; i >= 0; i--) {
      if (names[i] === lower) {
        names.splice(i, 1);
        this.#values.splice(i, 1);
      }
    }
  }

  append(name: string, value: string): void {
    this.#add(knownName("append", name), checkedValue("append", value));
  }

  set(name: string, value: string): void {
    const lower = knownName("set", name);
    const v = checkedValue("set", value);
    if (lower !== "set-cookie") {
      const i = this.#index(lower);
      if (i >= 0) {
        this.#values[i] = v;
        return;
      }
    } else this.#remove(lower);
    this.#names.push(lower);
    this.#values.push(v);
  }

  delete(name: string): void {
    this.#remove(knownName("delete", name));
  }

  get(name: string): string | null {
    const lower = knownName("get", name);
    if (lower === "set-cookie") {
      const all = this.getSetCookie();
      return all.length ? all.join(", ") : null;
    }
    const i = this.#index(lower);
    return i < 0 ? null : this.#values[i]!;
  }

  has(name: string): boolean {
    return this.#index(knownName("has", name)) >= 0;
  }

  getSetCookie(): string[] {
    const out: string[] = [];
    const names = this.#names;
    for (let i = 0; i < names.length; i++) if (names[i] === "set-cookie") out.push(this.#values[i]!);
    return out;
  }

  /** Flat [name, value, ...] sorted by name (stable: set-cookie values keep their order), as iteration gives them. */
  [PAIRS](): string[] {
    const names = this.#names;
    const values = this.#values;
    const n = names.length;
    const order: number[] = new Array(n);
    for (let i = 0; i < n; i++) {
      // Insertion sort: a handful of names, mostly in order already.
      let j = i;
      while (j > 0 && names[order[j - 1]!]! > names[i]!) {
        order[j] = order[j - 1]!;
        j--;
      }
      order[j] = i;
    }
    const out: string[] = new Array(n * 2);
    for (let k = 0; k < n; k++) {
      out[2 * k] = names[order[k]!]!;
      out[2 * k + 1] = values[order[k]!]!;
    }
    return out;
  }

  /** A copy without the names `drop` picks (lower-case names are passed). */
  [WITHOUT](drop: (lowerName: string) => boolean): LightHeaders {
    const out = new LightHeaders();
    const names = this.#names;
    for (let i = 0; i < names.length; i++) {
      if (drop(names[i]!)) continue;
      out.#names.push(names[i]!);
      out.#values.push(this.#values[i]!);
    }
    return out;
  }

  forEach(callback: (value: string, name: string, parent: Headers) => void, thisArg?: unknown): void {
    if (typeof callback !== "function")
      throw new TypeError("Headers.forEach: Argument 1 could not be converted to: Function.");
    const pairs = this[PAIRS]();
    for (let i = 0; i < pairs.length; i += 2)
      callback.call(thisArg, pairs[i + 1]!, pairs[i]!, this as unknown as Headers);
  }

  *entries(): IterableIterator<[string, string]> {
    const pairs = this[PAIRS]();
    for (let i = 0; i < pairs.length; i += 2) yield [pairs[i]!, pairs[i + 1]!];
  }

  *keys(): IterableIterator<string> {
    const pairs = this[PAIRS]();
    for (let i = 0; i < pairs.length; i += 2) yield pairs[i]!;
  }

  *values(): IterableIterator<string> {
    const pairs = this[PAIRS]();
    for (let i = 1; i < pairs.length; i += 2) yield pairs[i]!;
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}
Object.setPrototypeOf(LightHeaders.prototype, Headers.prototype);
Object.defineProperty(LightHeaders.prototype, Symbol.for("nodejs.util.inspect.custom"), {
  value(this: LightHeaders) {
    return `Headers (light) ${JSON.stringify(Object.fromEntries(this))}`;
  },
});
