/**
 * An HTTP/1.1 response parser for the Bun wire client (bun-wire.ts): bytes in as the
 * socket hands them over, the answer's head and its body chunks out.
 *
 * Framing as RFC 9112 §6.3 says, for a client that sends no pipelined requests: no body for
 * HEAD, 1xx, 204 and 304; `Transfer-Encoding` ending in `chunked` (extensions and trailers
 * read and dropped, as fetch drops them); else `Content-Length`; else the body runs until
 * the server closes. Interim answers (100, 102, 103) are skipped. Anything it cannot frame
 * with certainty (a 101, folded or malformed header lines, differing Content-Length values,
 * a bad chunk size, bytes after the end of the answer) throws a FramingError: the caller
 * closes the socket and never reuses it.
 */
import { isHopByHop } from "../proxy/headers.ts";

/**
 * Regular expressions of the per-answer path are module constants, not literals in the
 * functions: JSC makes a literal's object with its function's code block, and ages that code
 * block out while an optimized caller runs it inlined; the next plain call then makes a new
 * object and the caller's optimized code, which holds the old one, is thrown away and compiled
 * again (docs/overhead-streaming.md, nineteenth pass).
 */
const CHUNKED_LAST = /(^|,)\s*chunked\s*$/i;
const KEEP_ALIVE_TOKEN = /(^|[\s,])keep-alive\s*,/;
const CLOSE_TOKEN = /(^|[\s,])close\s*,/;

/** The answer could not be framed: the connection cannot be trusted any further. */
export class FramingError extends Error {
  constructor(what: string) {
    super(`the model server's answer is not valid HTTP/1.1 (${what})`);
  }
}

/** An answer's head, as parsed. */
export interface ResponseHead {
  status: number;
  /**
   * The answer's headers, as they came, without `Content-Length`: framing's alone (read into
   * `length`), which every reader of an answer's headers in the gateway deletes (thirteenth pass).
   */
  headers: Headers;
  /** The connection may carry another request once this answer's body has ended. */
  keepAlive: boolean;
  /** The body's length when declared (and not chunked); -1 otherwise. */
  length: number;
  /** `content-type` is an event stream. */
  eventStream: boolean;
  /** The answer has a `Content-Encoding` header (the wire client then decodes: decode.ts). */
  contentEncoding: boolean;
  /**
   * A bare head's (`reset(…, true)`) `Content-Encoding` value (several lines joined with ", ",
   * as `Headers.get` joins them); undefined in a full head (read `headers`) or when there is none.
   */
  encoding?: string;
  /**
   * The hop-by-hop names among the headers (lower-case, `isHopByHop`), as they came; undefined
   * when the answer has a `Connection` header (the names it lists are the reader's to find).
   */
  hop: readonly string[] | undefined;
}

/** Where the parser sends what it found. */
export interface ParserSink {
  head(head: ResponseHead): void;
  /** A piece of the body: a view into the socket's buffer (the socket gives a fresh one per callback). */
  body(chunk: Uint8Array): void;
}

enum State {
  Head,
  Length,
  SizeLine,
  Data,
  DataEnd,
  Trailers,
  UntilClose,
  Done,
}

/** Largest head (status line and headers) accepted; Node's default is 16 KiB. */
const MAX_HEAD = 64 * 1024;
/** Largest chunk-size line or trailer line accepted. */
const MAX_LINE = 8 * 1024;
const HEX = /^[0-9a-fA-F]{1,12}$/;
/**
 * Name lengths the head's loop lower-cases and reads: framing's four names and every
 * hop-by-hop one (2 te, 4 host, 7 trailer and upgrade, 10, 12 content-type, 14, 16, 17,
 * 18, 19); a name of any other length is neither.
 */
const READ_SIZES = new Uint8Array(20);
for (const size of [2, 4, 7, 10, 12, 14, 16, 17, 18, 19]) READ_SIZES[size] = 1;
const NO_NAMES: readonly string[] = Object.freeze([]);
const DIGITS = /^\d{1,15}$/;
/**
 * The `headers` of every bare head: empty, never appended to (a bare head's reader, the wire
 * client's light GET, reads only the status, the framing and `encoding`).
 */
const BARE_HEADERS = new Headers();

/** One answer at a time; `reset` before each request. */
export class ResponseParser {
  #state = State.Done;
  #remaining = 0;
  #pending: Buffer | undefined;
  #noBody = false;
  #keepAlive = true;
  #bare = false;

  constructor(private readonly sink: ParserSink) {}

  /**
   * Ready for the answer to a new request (`head`: it was a HEAD request, so the answer has no
   * body). `bare`: the head's headers are read for framing only, no `Headers` is built
   * (`headers` is an empty shared one; `encoding` holds any Content-Encoding): a background
   * scrape reads only the status and the body (fourteenth pass).
   */
  reset(head: boolean, bare = false): void {
    this.#state = State.Head;
    this.#pending = undefined;
    this.#noBody = head;
    this.#bare = bare;
  }

  /** The answer's body runs until the connection closes (a close now ends it well). */
  get untilClose(): boolean {
    return this.#state === State.UntilClose;
  }

  /** The answer has ended and the connection may carry another request. */
  get reusable(): boolean {
    return this.#state === State.Done && this.#keepAlive;
  }

  /** Feeds bytes from the socket; true once the answer has ended. Throws a FramingError. */
  feed(input: Buffer): boolean {
    let data = input;
    if (this.#pending) {
      data = Buffer.concat([this.#pending, input]);
      this.#pending = undefined;
    }
    let i = 0;
    const n = data.length;
    while (i < n) {
      switch (this.#state) {
        case State.Head: {
          const end = data.indexOf("\r\n\r\n", i, "latin1");
          if (end < 0) return this.#keep(data, i, MAX_HEAD, "a head over 64 KiB");
          this.#head(data.toString("latin1", i, end));
          i = end + 4;
          break;
        }
        case State.Length:
        case State.Data:
        case State.UntilClose: {
          const take = this.#state === State.UntilClose ? n - i : Math.min(this.#remaining, n - i);
          this.sink.body(i === 0 && take === n ? data : data.subarray(i, i + take));
          i += take;
          if (this.#state === State.UntilClose) break;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#state = this.#state === State.Data ? State.DataEnd : State.Done;
          break;
        }
        case State.SizeLine:
        case State.DataEnd:
        case State.Trailers: {
          // The CRLF after a chunk's data, as every server writes it: no search for the LF.
          if (this.#state === State.DataEnd && i + 1 < n && data[i] === 13 && data[i + 1] === 10) {
            i += 2;
            this.#state = State.SizeLine;
            break;
          }
          if (this.#state === State.SizeLine) {
            // A size of 1-12 bare hex digits and its CRLF, read in one pass (no search for
            // the LF); any other line (extensions, spaces, 0, a bare LF, split) as below.
            let k = i;
            let size = 0;
            for (const last = Math.min(n, i + 12); k < last; k++) {
              const digit = hexDigit(data[k]!);
              if (digit < 0) break;
              size = size * 16 + digit;
            }
            if (size > 0 && k + 1 < n && data[k] === 13 && data[k + 1] === 10) {
              i = k + 2;
              this.#remaining = size;
              this.#state = State.Data;
              break;
            }
          }
          const lf = data.indexOf(10, i);
          if (lf < 0) return this.#keep(data, i, MAX_LINE, "a chunk line over 8 KiB");
          const start = i;
          const end = lf > i && data[lf - 1] === 13 ? lf - 1 : lf;
          i = lf + 1;
          // The usual lines of a chunked stream, read as bytes: the empty line after a chunk,
          // a size of bare hex digits. Anything else is read as text (#line).
          if (this.#state === State.DataEnd && end === start) {
            this.#state = State.SizeLine;
            break;
          }
          if (this.#state === State.SizeLine) {
            const size = hexSize(data, start, end);
            if (size > 0) {
              this.#remaining = size;
              this.#state = State.Data;
              break;
            }
          }
          this.#line(data.toString("latin1", start, end));
          break;
        }
        case State.Done:
          throw new FramingError("bytes after the end of the answer");
      }
    }
    return this.#state === State.Done;
  }

  /** Keeps the unparsed tail for the next feed. */
  #keep(data: Buffer, from: number, max: number, what: string): boolean {
    if (data.length - from > max) throw new FramingError(what);
    this.#pending = Buffer.from(data.subarray(from));
    return false;
  }

  #line(line: string): void {
    if (this.#state === State.DataEnd) {
      if (line !== "") throw new FramingError("no line end after a chunk");
      this.#state = State.SizeLine;
    } else if (this.#state === State.SizeLine) {
      const semi = line.indexOf(";");
      const hex = (semi < 0 ? line : line.slice(0, semi)).trim();
      if (!HEX.test(hex)) throw new FramingError(`bad chunk size ${JSON.stringify(line.slice(0, 40))}`);
      const size = Number.parseInt(hex, 16);
      if (size === 0) this.#state = State.Trailers;
      else {
        this.#remaining = size;
        this.#state = State.Data;
      }
    } else if (line === "") this.#state = State.Done; // the empty line after the trailers
  }

  #head(text: string): void {
    const firstEnd = text.indexOf("\r\n");
    const status = statusOf(text, firstEnd < 0 ? text.length : firstEnd);
    if (status === 101)
      throw new FramingError("101 Switching Protocols to a request that asked for no upgrade");
    if (status < 200) return; // 100, 102, 103: the answer is still to come
    const bare = this.#bare;
    const headers = bare ? BARE_HEADERS : new Headers();
    let encoding: string | undefined;
    let length = -1;
    let chunked = false;
    let encoded = false;
    let connection = "";
    let eventStream = false;
    let contentEncoding = false;
    let hop: string[] | undefined;
    let at = firstEnd;
    while (at >= 0) {
      const from = at + 2;
      const next = text.indexOf("\r\n", from);
      const lineEnd = next < 0 ? text.length : next;
      at = next;
      const colon = text.indexOf(":", from);
      const first = text.charCodeAt(from);
      if (colon <= from || colon >= lineEnd || first === 32 || first === 9)
        throw new FramingError(
          `bad header line ${JSON.stringify(text.slice(from, Math.min(lineEnd, from + 40)))}`,
        );
      const raw = text.slice(from, colon);
      // The usual line, "name: value" with one space and plain ends, as `trim` would give it
      // without making the untrimmed string first; any other through `trim`, as before.
      const value =
        text.charCodeAt(colon + 1) === 32 &&
        plain(text.charCodeAt(colon + 2)) &&
        plain(text.charCodeAt(lineEnd - 1)) &&
        lineEnd > colon + 2
          ? text.slice(colon + 2, lineEnd)
          : text.slice(colon + 1, lineEnd).trim();
      // Only names framing reads or the gateway drops are lower-cased and compared (by length first).
      const size = colon - from;
      if (size >= 20 || READ_SIZES[size] === 0) {
        if (!bare) headers.append(raw, value);
        continue;
      }
      // The two spellings servers use, without a lower-cased copy.
      const name = raw === "Content-Length" ? "content-length" : raw === "Date" ? "date" : raw.toLowerCase();
      if (name === "content-length") {
        // Framing's alone: read here, never passed on (every reader of the answer's headers
        // deletes it), so not in the Headers at all (thirteenth pass).
        length = length < 0 && DIGITS.test(value) ? Number(value) : lengthOf(value, length);
        continue;
      }
      if (!bare) headers.append(raw, value);
      if (isHopByHop(name)) {
        if (hop === undefined) hop = [name];
        else hop.push(name);
      }
      if (name === "transfer-encoding") {
        encoded = true;
        chunked = CHUNKED_LAST.test(value);
      } else if (name === "connection") connection += `${value.toLowerCase()},`;
      else if (name === "content-type") eventStream = value.includes("text/event-stream");
      else if (name === "content-encoding") {
        contentEncoding = true;
        if (bare) encoding = encoding === undefined ? value : `${encoding}, ${value}`;
      }
    }
    const http10 = text.charCodeAt(7) === 48; // HTTP/1.0
    this.#keepAlive =
      connection === ""
        ? !http10
        : http10
          ? KEEP_ALIVE_TOKEN.test(connection)
          : !CLOSE_TOKEN.test(connection);
    const noBody = this.#noBody || status === 204 || status === 304;
    if (noBody) this.#state = State.Done;
    else if (encoded) {
      this.#state = chunked ? State.SizeLine : State.UntilClose;
      length = -1;
    } else if (length >= 0) this.#state = length === 0 ? State.Done : State.Length;
    else this.#state = State.UntilClose;
    if (this.#state === State.Length) this.#remaining = length;
    if (this.#state === State.UntilClose) this.#keepAlive = false;
    this.sink.head({
      status,
      headers,
      keepAlive: this.#keepAlive,
      length: noBody ? 0 : length,
      eventStream,
      contentEncoding,
      encoding,
      hop: connection === "" ? (hop ?? NO_NAMES) : undefined,
    });
  }
}

/** A character `trim` keeps at a string's end: printable ASCII (no space, no control, nothing past 0x7e). */
function plain(c: number): boolean {
  return c > 32 && c < 127;
}

/**
 * A chunk-size line of 1-12 bare hex digits, `data[start, end)`, as a number; -1 for any
 * other line (extensions, spaces, zero), which `#line` then reads as text.
 */
function hexSize(data: Uint8Array, start: number, end: number): number {
  if (end <= start || end - start > 12) return -1;
  let size = 0;
  for (let k = start; k < end; k++) {
    const digit = hexDigit(data[k]!);
    if (digit < 0) return -1;
    size = size * 16 + digit;
  }
  return size;
}

/** A hex digit's value, -1 for any other byte. */
function hexDigit(c: number): number {
  return c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
}

/**
 * The status of the line `text[0, end)`: `HTTP/1.0` or `HTTP/1.1`, a space, three digits, then
 * a space or the line's end. Read by char codes (a regular expression's match, its capture and
 * the slice of the line cost ~0.2 µs an answer).
 */
function statusOf(text: string, end: number): number {
  if (
    end >= 12 &&
    text.startsWith("HTTP/1.") &&
    text.charCodeAt(8) === 32 &&
    (end === 12 || text.charCodeAt(12) === 32)
  ) {
    const minor = text.charCodeAt(7);
    const a = text.charCodeAt(9) - 48;
    const b = text.charCodeAt(10) - 48;
    const c = text.charCodeAt(11) - 48;
    if ((minor === 48 || minor === 49) && a >= 0 && a <= 9 && b >= 0 && b <= 9 && c >= 0 && c <= 9)
      return a * 100 + b * 10 + c;
  }
  throw new FramingError(`bad status line ${JSON.stringify(text.slice(0, Math.min(end, 40)))}`);
}

/** A Content-Length value (a list of equal values counts as one); differing values throw. */
function lengthOf(value: string, before: number): number {
  let length = before;
  for (const part of value.split(",")) {
    const v = part.trim();
    if (!DIGITS.test(v)) throw new FramingError(`bad content-length ${JSON.stringify(value.slice(0, 40))}`);
    const n = Number(v);
    if (length >= 0 && n !== length) throw new FramingError("differing content-length values");
    length = n;
  }
  return length;
}
