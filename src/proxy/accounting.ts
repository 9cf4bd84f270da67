/**
 * Taps an answer on its way to the client, without holding it back: time to first
 * token, gaps between tokens, token usage. For SSE it can also drop the usage-only
 * event the gateway asked the pod for when the client did not.
 */

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
}

export interface AccountingResult {
  /** Clock time of the first non-empty content chunk (undefined: none seen). */
  firstTokenAt: number | undefined;
  lastTokenAt: number | undefined;
  /** Content events seen: a token count when the pod reports no usage. */
  contentEvents: number;
  /** Largest gap between two content events (ms). */
  maxInterTokenMs: number;
  usage: Usage | undefined;
  responseBytes: number;
}

const encoder = new TextEncoder();

const emptyResult = (): AccountingResult => ({
  firstTokenAt: undefined,
  lastTokenAt: undefined,
  contentEvents: 0,
  maxInterTokenMs: 0,
  usage: undefined,
  responseBytes: 0,
});
const MAX_JSON_KEPT = 1 << 20;

function toUsage(raw: unknown): Usage | undefined {
  if (!raw || typeof raw !== "object") return undefined;
  const u = raw as {
    prompt_tokens?: unknown;
    completion_tokens?: unknown;
    prompt_tokens_details?: { cached_tokens?: unknown };
  };
  if (typeof u.prompt_tokens !== "number" || typeof u.completion_tokens !== "number") return undefined;
  const cached = u.prompt_tokens_details?.cached_tokens;
  return {
    promptTokens: u.prompt_tokens,
    completionTokens: u.completion_tokens,
    cachedTokens: typeof cached === "number" ? cached : 0,
  };
}

/** True when a chat/completions chunk carries generated text. */
function hasContent(json: string): boolean {
  // Cheap pre-check before parsing: role-only and usage-only chunks have no text.
  if (!json.includes('"content":"') && !json.includes('"text":"') && !json.includes('"reasoning_content":"'))
    return false;
  try {
    const obj = JSON.parse(json) as { choices?: { delta?: Record<string, unknown>; text?: unknown }[] };
    return (obj.choices ?? []).some((c) => {
      const d = c.delta;
      return (
        (typeof c.text === "string" && c.text !== "") ||
        (!!d &&
          ((typeof d["content"] === "string" && d["content"] !== "") ||
            (typeof d["reasoning_content"] === "string" && d["reasoning_content"] !== "")))
      );
    });
  } catch {
    return false;
  }
}

export class SseAccounting {
  readonly result: AccountingResult = emptyResult();
  private readonly decoder = new TextDecoder();
  private pending = "";

  /**
   * @param now clock
   * @param dropUsageEvent drop the usage-only event (the client did not ask for usage). Output is then
   *   event-aligned: a partial event is held until its end arrives (at most one event).
   */
  constructor(
    private readonly now: () => number,
    private readonly dropUsageEvent: boolean,
  ) {}

  /** Sees one chunk; returns what the client should get (the same bytes unless an event is dropped). */
  chunk(bytes: Uint8Array): Uint8Array | undefined {
    this.result.responseBytes += bytes.byteLength;
    this.pending += this.decoder.decode(bytes, { stream: true });
    let out = this.dropUsageEvent ? "" : undefined;
    let dropped = false;
    for (;;) {
      const end = this.boundary();
      if (end === -1) break;
      const event = this.pending.slice(0, end);
      this.pending = this.pending.slice(end);
      const drop = this.onEvent(event);
      dropped ||= drop;
      if (out !== undefined && !drop) out += event;
    }
    if (out === undefined) return bytes;
    if (!dropped && out.length === 0) return undefined;
    return out.length ? encoder.encode(out) : undefined;
  }

  /** End of stream: anything still pending goes out as it is. */
  flush(): Uint8Array | undefined {
    const rest = this.pending + this.decoder.decode();
    this.pending = "";
    if (!this.dropUsageEvent || !rest) return undefined;
    return this.onEvent(rest) ? undefined : encoder.encode(rest);
  }

  /** Index just past the next blank line ("\n\n" or "\r\n\r\n"), or -1. */
  private boundary(): number {
    const lf = this.pending.indexOf("\n\n");
    const crlf = this.pending.indexOf("\r\n\r\n");
    if (lf === -1 && crlf === -1) return -1;
    if (crlf !== -1 && (lf === -1 || crlf < lf)) return crlf + 4;
    return lf + 2;
  }

  /** Accounts for one event; returns true when it must not reach the client. */
  private onEvent(event: string): boolean {
    const dataAt = event.indexOf("data:");
    if (dataAt === -1) return false;
    const data = event.slice(dataAt + 5).trim();
    if (data === "[DONE]" || !data.startsWith("{")) return false;
    const r = this.result;
    if (hasContent(data)) {
      const t = this.now();
      if (r.firstTokenAt === undefined) r.firstTokenAt = t;
      else if (r.lastTokenAt !== undefined)
        r.maxInterTokenMs = Math.max(r.maxInterTokenMs, t - r.lastTokenAt);
      r.lastTokenAt = t;
      r.contentEvents++;
    }
    if (data.includes('"usage":{')) {
      try {
        const obj = JSON.parse(data) as { usage?: unknown; choices?: unknown[] };
        r.usage = toUsage(obj.usage) ?? r.usage;
        return this.dropUsageEvent && Array.isArray(obj.choices) && obj.choices.length === 0;
      } catch {
        return false;
      }
    }
    return false;
  }
}

/**
 * Accounting for a JSON answer: keeps a copy (bounded) and reads `usage` at the end.
 * No TTFT: a non-streamed answer arrives whole.
 */
export class JsonAccounting {
  readonly result: AccountingResult = emptyResult();
  private parts: Uint8Array[] = [];

  chunk(bytes: Uint8Array): Uint8Array {
    this.result.responseBytes += bytes.byteLength;
    if (this.result.responseBytes <= MAX_JSON_KEPT) this.parts.push(bytes);
    return bytes;
  }

  flush(): undefined {
    if (this.result.responseBytes <= MAX_JSON_KEPT) {
      try {
        let whole = this.parts[0] ?? new Uint8Array();
        if (this.parts.length > 1) {
          whole = new Uint8Array(this.result.responseBytes);
          let at = 0;
          for (const p of this.parts) {
            whole.set(p, at);
            at += p.byteLength;
          }
        }
        const text = new TextDecoder().decode(whole);
        this.result.usage = toUsage((JSON.parse(text) as { usage?: unknown }).usage);
      } catch {
        // Not JSON (an error page): no usage.
      }
    }
    this.parts = [];
    return undefined;
  }
}
