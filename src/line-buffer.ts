/**
 * A growable byte buffer that JSON values are written into directly: ASCII copied a byte
 * at a time, everything else through TextEncoder. What the request log line is built in, so
 * no line-sized string is made per request (JSC builds a concatenation as a rope, and
 * flattening a 30-piece rope cost more than the whole JSON.stringify it replaced: ~430 ns).
 */
export class LineBuffer {
  buf: Uint8Array;
  pos = 0;
  private static readonly encoder = new TextEncoder();
  /** One decoder for every `text()` (without `stream` it keeps nothing between calls). */
  private static readonly decoder = new TextDecoder();

  constructor(size = 4096) {
    this.buf = new Uint8Array(size);
  }

  /** Room for `n` more bytes (the bytes written so far are kept). */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
  }

  /** A string known to need no escaping and to be ASCII (field names, a formatted number). */
  ascii(s: string): void {
    const n = s.length;
    this.ensure(n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /**
   * A string as JSON.stringify writes it: quoted; printable ASCII without `"` or `\` is
   * copied as is, anything else takes JSON.stringify and UTF-8 (the same characters).
   */
  string(s: string): void {
    const n = s.length;
    this.ensure(n + 2);
    const buf = this.buf;
    const start = this.pos;
    let p = start;
    buf[p++] = 34;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 32 || c > 126 || c === 34 || c === 92) {
        this.pos = start;
        this.encoded(JSON.stringify(s));
        return;
      }
      buf[p++] = c;
    }
    buf[p++] = 34;
    this.pos = p;
  }

  /**
   * A number as JSON.stringify writes it (NaN and the infinities are null). Non-negative
   * integers below 2^53 (times in ms, statuses, token counts) are written digit by digit:
   * JSC formats them as doubles otherwise.
   */
  number(v: number): void {
    if (v >= 0 && v <= Number.MAX_SAFE_INTEGER && Math.floor(v) === v && !Object.is(v, -0)) {
      let digits = 1;
      for (let t = v; t >= 10; t = Math.floor(t / 10)) digits++;
      this.ensure(digits);
      const buf = this.buf;
      let p = this.pos + digits;
      this.pos = p;
      let t = v;
      do {
        const q = Math.floor(t / 10);
        buf[--p] = 48 + (t - q * 10);
        t = q;
      } while (t > 0);
      return;
    }
    // Hundredths (durations rounded to 0.01 ms): the digits of v * 100 with the point put
    // in. v is the double nearest n / 100, so that decimal, without a trailing zero, is the
    // shortest that reads back as v, which is what JS prints (below 1e9 no other decimal of
    // at most two places is within half a unit of v's last place).
    if (v > 0 && v < 1e9) {
      const n = Math.round(v * 100);
      if (n / 100 === v) {
        const whole = Math.floor(n / 100);
        const cents = n - whole * 100;
        this.number(whole);
        this.ensure(3);
        const buf = this.buf;
        buf[this.pos++] = 46;
        const tens = Math.floor(cents / 10);
        buf[this.pos++] = 48 + tens;
        if (cents !== tens * 10) buf[this.pos++] = 48 + (cents - tens * 10);
        return;
      }
    }
    this.ascii(Number.isFinite(v) ? `${v}` : "null");
  }

  /**
   * `new Date(ms).toISOString()` for a time in ms since 1970 (a non-negative integer, as
   * Date.now() gives), without a string per call: the part up to the second is formatted
   * once a second (`isoSecondPrefix`), the milliseconds written as digits.
   */
  isoTime(ms: number): void {
    const second = Math.floor(ms / 1000);
    this.ascii(isoSecondPrefix(second));
    const rest = ms - second * 1000;
    this.ensure(4);
    const buf = this.buf;
    const hundreds = Math.floor(rest / 100);
    const tens = Math.floor((rest - hundreds * 100) / 10);
    buf[this.pos++] = 48 + hundreds;
    buf[this.pos++] = 48 + tens;
    buf[this.pos++] = 48 + (rest - hundreds * 100 - tens * 10);
    buf[this.pos++] = 90; // Z
  }

  /** Any string, UTF-8 encoded (JSON.stringify's output: its lone surrogates are escaped). */
  encoded(s: string): void {
    this.ensure(s.length * 3);
    this.pos += LineBuffer.encoder.encodeInto(s, this.buf.subarray(this.pos)).written;
  }

  /** The bytes from `start` as a string (for a writer that takes strings). */
  text(start = 0): string {
    return LineBuffer.decoder.decode(this.buf.subarray(start, this.pos));
  }
}

let isoSecond = Number.NaN;
let isoPrefix = "";

/** "YYYY-MM-DDTHH:MM:SS." of the second `second` (since 1970), formatted once a second. */
export function isoSecondPrefix(second: number): string {
  if (second !== isoSecond) {
    const iso = new Date(second * 1000).toISOString();
    isoPrefix = iso.slice(0, iso.length - 4); // drop "000Z"
    isoSecond = second;
  }
  return isoPrefix;
}
