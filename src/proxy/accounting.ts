/**
 * Taps an answer on its way to the client, without holding it back: time to first
 * token, gaps between tokens, token usage and (Responses API) the response id the pod
 * gave. Streams are read frame by frame by the byte-level SseFramer, in the dialect of
 * the request's route (usage.ts): JSON is parsed only for the first content frame and
 * the frames that carry usage or ids. For chat and completions streams it can also drop
 * the usage-only chunk the gateway asked the pod for when the client did not, and it
 * renames `model` when `responseModel: requested` says so. A JSON answer's tap is
 * json-accounting.ts; what either learns is accounting-result.ts.
 */
import type { Clock } from "../clock.ts";
import { type AccountingResult, emptyResult } from "./accounting-result.ts";
import { indexOfByte } from "./byte-index.ts";
import { cutOut, withoutRanges } from "./byte-ranges.ts";
import { indexOfBytes, pattern } from "./bytes.ts";
import { chunkFields, FIELD_OBJECT, FIELD_TEXT, nextUsageObject, textField } from "./frame-fields.ts";
import { renameFirstModel, renameModelAt } from "./model-field.ts";
import { eventName, frameJson, frameJsonIn } from "./sse-frame.ts";
import {
  type FrameVerdict,
  type FrameVisitor,
  MAX_FRAME_BYTES,
  type Pieces,
  SseFramer,
} from "./sse-framer.ts";
import { type Dialect, dialectOf, usageOf } from "./usage.ts";

export type { AccountingResult } from "./accounting-result.ts";
export type { Usage } from "./usage.ts";

/** The length of `"usage":{` (frame-fields.ts's USAGE_OBJECT). */
const USAGE_OBJECT_LENGTH = 9;
const LF = 0x0a;
const CR = 0x0d;

/** The last event of a stream, per dialect: what `endsStream` looks for in a chunk's tail. */
const LAST_EVENTS: Record<Dialect, readonly Uint8Array[]> = {
  openai: [pattern("data: [DONE]")],
  responses: ["response.completed", "response.incomplete", "response.failed"].map(pattern),
  messages: [pattern("message_stop")],
};
/**
 * How far from a chunk's end the last event's marker is looked for: `[DONE]` and
 * `message_stop` end their small events; a Responses API `response.completed` event
 * carries the whole response after its type.
 */
const LAST_EVENT_TAIL: Record<Dialect, number> = { openai: 64, responses: 64 << 10, messages: 256 };

/**
 * Whether `chunk` holds the last event of a stream of the route `kind` (OpenAI `[DONE]`,
 * Responses `response.completed`/`incomplete`/`failed`, Anthropic `message_stop`): a
 * stream whose first chunk holds it is worth checking for its end before answering. A
 * byte search of the chunk's tail; a false positive costs only that check.
 */
export function endsStream(kind: string, chunk: Uint8Array): boolean {
  return ENDS_STREAM[dialectOf(kind)](chunk);
}

/**
 * `endsStream` for one route kind, as a function of the chunk alone: one per dialect, made
 * once (no closure per stream, no dialect looked up per chunk; issue 19, fourteenth pass).
 */
export function endsStreamOf(kind: string): (chunk: Uint8Array) => boolean {
  return ENDS_STREAM[dialectOf(kind)];
}

function lastEventCheck(dialect: Dialect): (chunk: Uint8Array) => boolean {
  const markers = LAST_EVENTS[dialect];
  const tail = LAST_EVENT_TAIL[dialect];
  return (chunk) => {
    const from = Math.max(0, chunk.length - tail);
    for (const marker of markers) if (indexOfBytes(chunk, marker, from) !== -1) return true;
    return false;
  };
}

const ENDS_STREAM: Record<Dialect, (chunk: Uint8Array) => boolean> = {
  openai: lastEventCheck("openai"),
  responses: lastEventCheck("responses"),
  messages: lastEventCheck("messages"),
};

/**
 * True when an OpenAI chunk (already known to hold non-empty text bytes) really carries text.
 * No function is made per call (a loop, not `some` with an arrow): JSC inlines this into the
 * tap's optimized code, and a closure made here has its code owned by this function's own
 * code block, which JSC ages out while the inlined copy runs; the next call then makes the
 * closure from new code and every optimized caller is thrown away for a dead reference and
 * compiled again (`take`, `chunk`, `openaiFound`: issue 19, nineteenth pass).
 */
function confirmedContent(obj: Record<string, unknown> | undefined): boolean {
  const choices = obj?.["choices"];
  if (!Array.isArray(choices)) return false;
  for (const c of choices as ({ delta?: Record<string, unknown>; text?: unknown } | null | undefined)[]) {
    if (filled(c?.text)) return true;
    const d = c?.delta;
    if (d && (filled(d["content"]) || filled(d["reasoning_content"]) || filled(d["reasoning"]))) return true;
  }
  return false;
}

/** A non-empty string. */
function filled(v: unknown): boolean {
  return typeof v === "string" && v !== "";
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const field = (o: unknown, k: string): unknown =>
  o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined;

export interface SseAccountingOptions {
  /** The route's ApiKind: its stream dialect (OpenAI chunks, Responses events, Anthropic events). */
  kind: string;
  /** The clock content frames are timed by: `clock` (read as `clock.now()`, no closure per stream) or `now`. */
  now?: () => number;
  clock?: Clock;
  /** Drop the usage-only chunk (chat / completions: the gateway asked for usage, the client did not). */
  dropUsageEvent?: boolean;
  /** Rename `model` to this name in the frames that carry it. */
  renameTo?: string;
}

/** Accounting (and, when asked, usage-chunk dropping and model renaming) for one SSE answer. */
export class SseAccounting implements FrameVisitor {
  private readonly r: AccountingResult = emptyResult();
  /**
   * The first frame the byte test took for content, not yet confirmed by its parse, and the
   * clock read for it: confirmed before the next frame with text, the next chunk, the end or
   * a read of `result`, so the parse runs after the first chunk is written rather than
   * before (tenth pass: ~0.5-1 µs hot, several times that on a cold first byte). Its chunk
   * and bounds, not a copy (a copy cost more than the parse moved): chunks are not reused
   * once handed to the tap (the pod clients queue them as they come; the relay writes them).
   */
  private candidate: Uint8Array | undefined;
  private candidateStart = 0;
  private candidateEnd = 0;
  private candidateAt = 0;
  private framer: SseFramer | undefined = undefined;
  private readonly dialect: Dialect;
  private readonly drop: boolean;
  private readonly renameTo: string | undefined;
  private readonly clock: Clock;
  private messageUsage: { input: number; cached: number } | undefined;
  /** The clock read for the chunk being pushed (frames of one chunk arrived together): read once, at its first content frame. */
  private stamp: number | undefined;
  /** `whole`: where the next usage object starts (-1: none), and that the stream holds no CR. */
  private usageAt = -1;
  private noCR = false;

  constructor(opts: SseAccountingOptions) {
    this.dialect = dialectOf(opts.kind);
    const clock = opts.clock ?? (opts.now ? { now: opts.now } : undefined);
    if (clock === undefined) throw new TypeError("SseAccounting needs `clock` or `now`");
    this.clock = clock;
    this.drop = opts.dropUsageEvent === true && this.dialect === "openai";
    this.renameTo = opts.renameTo;
  }

  /**
   * The framer, made at the first chunk: a stream tapped whole (`whole`) makes none (issue 19,
   * fifteenth pass). Its visitor is this accounting (`frame`), not a closure made per stream
   * (sse-framer.ts `FrameVisitor` says why).
   */
  private framed(): SseFramer {
    this.framer = new SseFramer(this, this.drop || this.renameTo !== undefined);
    return this.framer;
  }

  /** One whole frame of the stream, `b[s, e)` (the framer's visitor): read by its dialect. */
  frame(b: Uint8Array, s: number, e: number): FrameVerdict {
    const dialect = this.dialect;
    if (dialect === "openai") return this.openai(b, s, e);
    return dialect === "responses" ? this.responses(b.subarray(s, e)) : this.messages(b.subarray(s, e));
  }

  /** What the stream has told so far (a first content frame still to confirm is confirmed first). */
  get result(): AccountingResult {
    if (this.candidate !== undefined) this.confirm();
    return this.r;
  }

  /**
   * Sees one chunk; returns what the client should get: the same bytes unless a frame is
   * dropped or renamed (then the pieces around it, in order).
   */
  chunk(bytes: Uint8Array): Pieces {
    if (this.candidate !== undefined) this.confirm();
    this.r.responseBytes += bytes.byteLength;
    this.stamp = undefined;
    return (this.framer ?? this.framed()).push(bytes);
  }

  /**
   * A whole stream at once (it came with its answer's head: respond's bytes path): what the
   * client gets, as one array, and the same result, as `chunk(bytes)` then `flush()` would
   * give them joined (tappedWhole). One pass over the frames: the usage objects are found by
   * one native search over the whole stream instead of two a frame, frames are ranges of
   * `bytes` (no framer, no runs or pieces), and what stays is `bytes` itself, or one new array
   * when a frame is dropped (issue 19, fifteenth pass). Undefined, with nothing done, where the
   * framer's general path is needed: another dialect, a rename, a CR in the stream, a stream
   * longer than the framer's largest frame, or an accounting that has already had a chunk.
   * `inPlace`: `bytes` are the caller's alone (a pod client's own copy of the answer), so a
   * dropped frame is cut out of them in place and the answer is a view of their start, with no
   * new array (issue 19, sixteenth pass: sse32 on Bun, the same gateway with and without it,
   * 12 alternating rounds: medians 59 against 62 µs a stream, lower in 10; bun-split.ts).
   */
  whole(bytes: Uint8Array, inPlace = false): Uint8Array | undefined {
    const len = bytes.length;
    if (
      this.dialect !== "openai" ||
      this.renameTo !== undefined ||
      this.framer !== undefined ||
      len > MAX_FRAME_BYTES ||
      indexOfByte(bytes, CR, 0) !== -1
    )
      return undefined;
    this.r.responseBytes = len;
    this.stamp = undefined;
    this.noCR = true;
    this.usageAt = nextUsageObject(bytes, 0);
    /** Dropped frames' ranges, [start, end) pairs in order. */
    let cut: number[] | undefined;
    // The framer's walk from LF to LF (no CR: a blank line is an LF at a line's start).
    let lineStart = true;
    let frameStart = 0;
    let i = 0;
    while (i < len) {
      const lf = bytes[i] === LF ? i : indexOfByte(bytes, LF, i);
      if (lf === -1) break;
      if (lf > i) lineStart = false;
      i = lf + 1;
      if (!lineStart) lineStart = true;
      else {
        if (this.wholeFrame(bytes, frameStart, i) === null) cut = cutOut(cut, frameStart, i);
        frameStart = i;
      }
    }
    // The end (flush): the first content frame confirmed, then a last frame without its blank line.
    if (this.candidate !== undefined) this.confirm();
    this.stamp = undefined;
    if (frameStart < len && this.wholeFrame(bytes, frameStart, len) === null)
      cut = cutOut(cut, frameStart, len);
    this.noCR = false;
    if (cut === undefined) return bytes;
    // A first content frame still to confirm (the last frame) is parsed before its bytes move.
    if (inPlace && this.candidate !== undefined) this.confirm();
    return withoutRanges(bytes, cut, inPlace);
  }

  /** One frame of a whole stream, `bytes[start, end)`: its usage object known from the one search. */
  private wholeFrame(bytes: Uint8Array, start: number, end: number): FrameVerdict {
    let at = this.usageAt;
    while (at !== -1 && at < start) at = nextUsageObject(bytes, at + 1);
    this.usageAt = at;
    // As chunkFields: the whole key and its `{` before the frame's last byte.
    const object = at !== -1 && at + USAGE_OBJECT_LENGTH <= end - 1;
    return this.openaiFound(
      bytes,
      start,
      end,
      (textField(bytes, start, end) ? FIELD_TEXT : 0) | (object ? FIELD_OBJECT : 0),
    );
  }

  /** End of stream: a last frame without its blank line. */
  flush(): Uint8Array | undefined {
    if (this.candidate !== undefined) this.confirm();
    this.stamp = undefined;
    // No framer: no chunk came, so nothing is held.
    return this.framer?.end();
  }

  private content(): void {
    if (this.stamp === undefined) this.stamp = this.clock.now();
    this.contentAt(this.stamp);
  }

  private contentAt(t: number): void {
    const r = this.r;
    if (r.firstTokenAt === undefined) r.firstTokenAt = t;
    else if (r.lastTokenAt !== undefined) r.maxInterTokenMs = Math.max(r.maxInterTokenMs, t - r.lastTokenAt);
    r.lastTokenAt = t;
    r.contentEvents++;
  }

  /** OpenAI chat / completions chunk, `buf[start, end)`: `data: {...}` or `data: [DONE]`. */
  private openai(buf: Uint8Array, start: number, end: number): FrameVerdict {
    // A non-empty text field and a usage object, found without a JS loop over every byte (frame-fields.ts).
    return this.openaiFound(buf, start, end, chunkFields(buf, start, end));
  }

  /** An OpenAI chunk frame whose fields (chunkFields' FIELD_TEXT, FIELD_OBJECT) are `found`. */
  private openaiFound(buf: Uint8Array, start: number, end: number, found: number): FrameVerdict {
    if (found & FIELD_TEXT) {
      // The byte test decides from the second content frame on; the first is parsed to be
      // sure, later (a candidate): its clock is read now, as content() would.
      if (this.candidate !== undefined) this.confirm();
      if (this.r.firstTokenAt !== undefined) this.content();
      else {
        if (this.stamp === undefined) this.stamp = this.clock.now();
        this.candidateAt = this.stamp;
        this.candidate = buf;
        this.candidateStart = start;
        this.candidateEnd = end;
      }
    }
    if (found & FIELD_OBJECT) {
      const obj = frameJsonIn(buf, start, end, this.noCR);
      this.r.usage = usageOf("openai", obj?.["usage"]) ?? this.r.usage;
      const choices = obj?.["choices"];
      if (this.drop && Array.isArray(choices) && choices.length === 0) return null;
    }
    return this.renameTo === undefined
      ? undefined
      : renameFirstModel(buf.subarray(start, end), this.renameTo);
  }

  /** The first content frame's parse: content at the time read for it, or nothing. */
  private confirm(): void {
    const buf = this.candidate!;
    this.candidate = undefined;
    if (confirmedContent(frameJsonIn(buf, this.candidateStart, this.candidateEnd, this.noCR)))
      this.contentAt(this.candidateAt);
  }

  /** Responses API typed events: `event: response.output_text.delta` and the like. */
  private responses(frame: Uint8Array): FrameVerdict {
    const type = eventName(frame) ?? str(frameJson(frame)?.["type"]);
    if (type === "response.output_text.delta") {
      this.content();
      return undefined;
    }
    const r = this.r;
    if (type === "response.created" || type === "response.completed" || type === "response.incomplete") {
      const response = field(frameJson(frame), "response");
      r.responseId ??= str(field(response, "id"));
      if (type !== "response.created") r.usage = usageOf("responses", field(response, "usage")) ?? r.usage;
    } else if (type !== "response.in_progress" && type !== "response.failed") return undefined;
    return this.renameTo === undefined ? undefined : renameModelAt(frame, ["response"], this.renameTo);
  }

  /** Anthropic Messages events: message_start, content_block_delta, message_delta, message_stop. */
  private messages(frame: Uint8Array): FrameVerdict {
    const type = eventName(frame) ?? str(frameJson(frame)?.["type"]);
    if (type === "content_block_delta") {
      this.content();
      return undefined;
    }
    const r = this.r;
    if (type === "message_start") {
      const message = field(frameJson(frame), "message");
      const usage = usageOf("messages", field(message, "usage"));
      if (usage) {
        this.messageUsage = { input: usage.promptTokens, cached: usage.cachedTokens };
        r.usage = usage;
      }
      return this.renameTo === undefined ? undefined : renameModelAt(frame, ["message"], this.renameTo);
    }
    if (type === "message_delta") {
      // Output tokens are final here; newer servers repeat input tokens too.
      const u = field(frameJson(frame), "usage");
      const output = field(u, "output_tokens");
      if (typeof output === "number") {
        const input = field(u, "input_tokens");
        const start = this.messageUsage;
        r.usage = {
          promptTokens: typeof input === "number" ? input : (start?.input ?? 0),
          completionTokens: output,
          cachedTokens: start?.cached ?? 0,
        };
      }
    }
    return undefined;
  }
}
