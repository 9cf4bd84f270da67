/**
 * Accounting for a JSON answer (split from accounting.ts, which taps event streams): the
 * answer kept (bounded) and its usage read at the end.
 */
import { type AccountingResult, emptyResult } from "./accounting-result.ts";
import { concatBytes, lastIndexOfBytes, pattern, valueEnd } from "./bytes.ts";
import { type Dialect, dialectOf, usageOf } from "./usage.ts";

const MAX_JSON_KEPT = 1 << 20;
/** One decoder for every answer (stateless without `stream: true`): not one per request. */
const decoder = new TextDecoder();
const USAGE_KEY = pattern('"usage":');
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/**
 * Accounting for a JSON answer: keeps a copy (bounded) and reads `usage` at the end,
 * parsing only the usage object (and, for the Responses API, the whole answer, for its
 * `id`). No TTFT: a non-streamed answer arrives whole.
 */
export class JsonAccounting {
  readonly result: AccountingResult = emptyResult();
  /**
   * The first chunk kept, alone: a whole answer (every JSON answer the gateway's pod clients
   * read) is one chunk, so no array an answer (thirteenth pass); the later ones in `parts`.
   */
  private first: Uint8Array | undefined = undefined;
  private parts: Uint8Array[] | undefined = undefined;
  private readonly dialect: Dialect;

  constructor(kind = "chat") {
    this.dialect = dialectOf(kind);
  }

  chunk(bytes: Uint8Array): Uint8Array {
    this.result.responseBytes += bytes.byteLength;
    if (this.result.responseBytes <= MAX_JSON_KEPT) {
      if (this.first === undefined) this.first = bytes;
      else if (this.parts === undefined) this.parts = [this.first, bytes];
      else this.parts.push(bytes);
    }
    return bytes;
  }

  flush(): undefined {
    const first = this.first;
    if (this.result.responseBytes <= MAX_JSON_KEPT && first !== undefined) {
      const whole = this.parts === undefined ? first : concatBytes(this.parts, this.result.responseBytes);
      try {
        if (this.dialect === "responses") {
          const obj = JSON.parse(decoder.decode(whole)) as Record<string, unknown>;
          this.result.responseId = str(obj["id"]);
          this.result.usage = usageOf("responses", obj["usage"]);
        } else this.result.usage = usageOf(this.dialect, usageSlice(whole));
      } catch {
        // Not JSON (an error page): no usage.
      }
    }
    this.first = this.parts = undefined;
    return undefined;
  }
}

/**
 * The answer's `"usage": {...}` object, parsed alone (undefined when there is none). The
 * last such object wins: servers put the top-level usage after the output, where a
 * tool's input object could hold a key of that name too. Searched from the end (the first
 * match from there is the last one), so a long answer's output is not scanned (issue 19,
 * eighth pass).
 */
function usageSlice(whole: Uint8Array): unknown {
  for (
    let key = lastIndexOfBytes(whole, USAGE_KEY);
    key !== -1;
    key = lastIndexOfBytes(whole, USAGE_KEY, key)
  ) {
    let at = key + USAGE_KEY.length;
    while (whole[at] === 0x20 || whole[at] === 0x0a || whole[at] === 0x0d || whole[at] === 0x09) at++;
    if (whole[at] !== 0x7b) continue;
    const end = valueEnd(whole, at);
    if (end !== -1) return JSON.parse(decoder.decode(whole.subarray(at, end)));
  }
  return undefined;
}
