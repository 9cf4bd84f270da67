import { indexOfByte } from "./byte-index.ts";
import { concatBytes } from "./bytes.ts";

/**
 * Byte-level Server-Sent Events framing, shared by accounting and model renaming.
 *
 * An event (frame) ends at a blank line. Lines end with LF, CRLF or a bare CR, in any
 * mix, as the SSE spec allows, so `\n\n`, `\r\n\r\n`, `\r\n\n` and `\r\r` all end a
 * frame. The framer scans each chunk's bytes for those boundaries and hands every
 * complete frame to its visitor as a range of bytes (`buf[start, end)`: the chunk itself
 * for a frame that lies in it, no view made per frame), which answers what the client
 * gets for it: `undefined` (the frame as it came), `null` (drop it) or replacement bytes.
 *
 * - Tap mode (`aligned: false`): the chunk always goes out as it came, at once; the
 *   framer keeps a copy of a frame split across chunks only to show it whole to
 *   the visitor, whose answer is ignored.
 * - Aligned mode (`aligned: true`, when a frame may be dropped or renamed): only whole
 *   frames go out; a trailing partial frame is held until its end arrives (at most one
 *   frame). A chunk made only of whole frames that all stay as they came is returned
 *   as the same object: no copy, no encode; frames that stay as they came go out as
 *   runs of the chunk (one view per run), so dropping one frame costs one copy at most.
 *
 * A frame longer than `maxFrame` bytes is not held or shown: its bytes pass as they
 * came (in aligned mode too) and the visitor never sees it.
 */
export type FrameVerdict = undefined | null | Uint8Array;

/** Bytes for the client: one array, several in order, or nothing (undefined). */
export type Pieces = Uint8Array | readonly Uint8Array[] | undefined;

/**
 * Sees one whole frame, `buf[start, end)`, and answers what the client gets for it. An object
 * with a method, not a function: a closure made per stream (a visitor bound to its accounting)
 * has its code owned by the code block of the function that made it, which JSC ages out while
 * an optimized caller runs it inlined, and every optimized caller of the framer is then thrown
 * away for a dead reference and compiled again (docs/overhead-streaming.md, nineteenth pass).
 */
export interface FrameVisitor {
  frame(buf: Uint8Array, start: number, end: number): FrameVerdict;
}

const LF = 0x0a;
const CR = 0x0d;
export const MAX_FRAME_BYTES = 4 << 20;
const EMPTY = new Uint8Array(0);
/**
 * The empty list `carry` and `out` start from (and go back to), shared by every framer and
 * never pushed to: each is made at its first piece, so a stream whose frames all lie within
 * their chunks, or a tap that only reads, allocates neither (issue 19, fourteenth pass).
 */
const NONE: Uint8Array[] = [];

export class SseFramer {
  /** At the start of a line (after a terminator, or at the start of the stream). */
  private lineStart = true;
  /** The last byte seen was a CR: an LF right after it belongs to the same terminator. */
  private afterCR = false;
  /** Bytes of the current, not yet ended frame (copies), when it started in an earlier chunk. */
  private carry: Uint8Array[] = NONE;
  private carried = 0;
  /** The current frame outgrew maxFrame: pass its bytes until it ends. */
  private oversized = false;
  /** The held frame ended with a bare CR at the end of a chunk; an LF may still follow. */
  private endsAtCR = false;

  /** Aligned mode, during one push: what the client gets, in order (pieces, then the open run). */
  private out: Uint8Array[] = NONE;
  private changed = false;
  /** The chunk being pushed and the run of it that goes out as it came, not yet in `out`. */
  private current: Uint8Array = EMPTY;
  private runStart = 0;
  private runEnd = 0;

  constructor(
    private readonly visitor: FrameVisitor,
    private readonly aligned: boolean,
    private readonly maxFrame = MAX_FRAME_BYTES,
  ) {}

  /** One chunk in; what the client gets now (undefined: nothing yet). */
  push(chunk: Uint8Array): Pieces {
    const aligned = this.aligned;
    const carriedIn = this.carried > 0 || this.oversized;
    this.current = chunk;
    this.changed = false;
    this.runStart = this.runEnd = 0;
    let frameStart = 0;
    const len = chunk.length;
    let i = 0;
    if (this.endsAtCR) {
      // The last frame ended with a CR at the end of the previous chunk: its LF, if any, is here.
      this.endsAtCR = false;
      if (len > 0 && chunk[0] === LF) {
        i = frameStart = 1;
        this.afterCR = false;
      }
      this.complete(chunk, 0, frameStart);
    }
    if (indexOfByte(chunk, CR, i) === -1) {
      // No CR in this chunk (the usual case): jump from LF to LF with the native indexOf;
      // the LF of a frame's blank line follows its last line's at once, so that byte is
      // looked at first (one native call a frame instead of two: issue 19, ninth pass).
      while (i < len) {
        const lf = chunk[i] === LF ? i : indexOfByte(chunk, LF, i);
        if (lf === -1) {
          this.lineStart = false;
          this.afterCR = false;
          i = len;
          break;
        }
        if (lf > i) {
          this.lineStart = false;
          this.afterCR = false;
        }
        i = lf + 1;
        if (this.afterCR) this.afterCR = false;
        else if (!this.lineStart) this.lineStart = true;
        else {
          this.complete(chunk, frameStart, i);
          frameStart = i;
        }
      }
    }
    for (; i < len; i++) {
      const b = chunk[i]!;
      if (b !== LF && b !== CR) {
        this.lineStart = false;
        this.afterCR = false;
        continue;
      }
      if (b === LF && this.afterCR) {
        this.afterCR = false;
        continue;
      }
      this.afterCR = b === CR;
      if (!this.lineStart) {
        this.lineStart = true;
        continue;
      }
      // A blank line: the frame ends here, with the LF of a CRLF.
      let end = i + 1;
      if (b === CR) {
        if (end === len) {
          this.endsAtCR = true;
          break;
        }
        if (chunk[end] === LF) {
          end++;
          i++;
          this.afterCR = false;
        }
      }
      this.complete(chunk, frameStart, end);
      frameStart = end;
    }
    const tail = len - frameStart;
    if (tail > 0) this.hold(chunk, frameStart);
    if (!aligned) return chunk;
    if (!this.changed && !carriedIn && tail === 0) return chunk;
    return this.take();
  }

  /**
   * Aligned mode: what this push queued: one array (a view of the chunk when that is all)
   * or its pieces in order, not joined (the relay sends them one after the other).
   */
  private take(): Pieces {
    const out = this.out;
    if (out.length === 0) {
      if (this.runEnd === this.runStart) return undefined;
      return this.runStart === 0 && this.runEnd === this.current.length
        ? this.current
        : this.current.subarray(this.runStart, this.runEnd);
    }
    this.endRun();
    this.out = NONE;
    return out.length === 1 ? out[0] : out;
  }

  /** Aligned mode: `current[start, end)` goes out as it came (joined to the open run when it follows it). */
  private keep(start: number, end: number): void {
    if (end === start) return;
    if (this.runEnd === start && this.runEnd !== this.runStart) {
      this.runEnd = end;
      return;
    }
    this.endRun();
    this.runStart = start;
    this.runEnd = end;
  }

  /** Aligned mode: bytes of their own go out (after the open run). */
  private emit(bytes: Uint8Array): void {
    this.endRun();
    if (bytes.byteLength) this.queue(bytes);
  }

  private endRun(): void {
    if (this.runEnd !== this.runStart) this.queue(this.current.subarray(this.runStart, this.runEnd));
    this.runStart = this.runEnd = 0;
  }

  /** Aligned mode: `bytes` after what this push already queued (the list made at its first piece). */
  private queue(bytes: Uint8Array): void {
    if (this.out === NONE) this.out = [bytes];
    else this.out.push(bytes);
  }

  /** A frame's last bytes, `chunk[start, end)`, arrived: show it whole to the visitor and queue what the client gets. */
  private complete(chunk: Uint8Array, start: number, end: number): void {
    if (this.oversized) {
      this.oversized = false;
      if (this.aligned) this.keep(start, end);
      return;
    }
    if (this.carried > 0) {
      const frame = this.takeCarry(chunk.subarray(start, end));
      const verdict = this.visitor.frame(frame, 0, frame.length);
      if (!this.aligned) return;
      if (verdict !== undefined) this.changed = true;
      this.emit(verdict === undefined ? frame : verdict === null ? EMPTY : verdict);
      return;
    }
    const verdict = this.visitor.frame(chunk, start, end);
    if (!this.aligned) return;
    if (verdict === undefined) this.keep(start, end);
    else {
      this.changed = true;
      if (verdict !== null) this.emit(verdict);
    }
  }

  /** End of the stream: a last frame with no blank line after it is shown and sent too. */
  end(): Uint8Array | undefined {
    this.endsAtCR = false;
    if (this.oversized || this.carried === 0) return undefined;
    const frame = this.takeCarry(EMPTY);
    const verdict = this.visitor.frame(frame, 0, frame.length);
    if (!this.aligned) return undefined;
    if (verdict === undefined) return frame;
    return verdict === null || verdict.byteLength === 0 ? undefined : verdict;
  }

  private takeCarry(last: Uint8Array): Uint8Array {
    const parts = this.carry;
    if (last.byteLength) parts.push(last);
    const frame = concatBytes(parts, this.carried + last.byteLength);
    this.carry = NONE;
    this.carried = 0;
    return frame;
  }

  /**
   * Keeps the unfinished frame's bytes, `chunk[from..]`. Past maxFrame the frame is given
   * up: in aligned mode its held bytes and this tail go out now, and so do its later
   * bytes until it ends.
   */
  private hold(chunk: Uint8Array, from: number): void {
    const size = chunk.length - from;
    if (this.oversized) {
      if (this.aligned) this.keep(from, chunk.length);
      return;
    }
    if (this.carried + size > this.maxFrame) {
      this.oversized = true;
      if (this.aligned) {
        for (const part of this.carry) this.emit(part);
        this.keep(from, chunk.length);
      }
      this.carry = NONE;
      this.carried = 0;
      return;
    }
    if (this.carry === NONE) this.carry = [chunk.slice(from)];
    else this.carry.push(chunk.slice(from));
    this.carried += size;
  }
}
