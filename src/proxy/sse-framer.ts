import { concatBytes } from "./bytes.ts";

/**
 * Byte-level Server-Sent Events framing, shared by accounting and model renaming.
 *
 * An event (frame) ends at a blank line. Lines end with LF, CRLF or a bare CR, in any
 * mix, as the SSE spec allows, so `\n\n`, `\r\n\r\n`, `\r\n\n` and `\r\r` all end a
 * frame. The framer scans each chunk's bytes for those boundaries and hands every
 * complete frame to `visit`, which answers what the client gets for it:
 * `undefined` (the frame as it came), `null` (drop it) or replacement bytes.
 *
 * - Tap mode (`aligned: false`): the chunk always goes out as it came, at once; the
 *   framer keeps a copy of a frame split across chunks only to show it whole to
 *   `visit`, whose answer is ignored.
 * - Aligned mode (`aligned: true`, when a frame may be dropped or renamed): only whole
 *   frames go out; a trailing partial frame is held until its end arrives (at most one
 *   frame). A chunk made only of whole frames that all stay as they came is returned
 *   as the same object: no copy, no encode.
 *
 * A frame longer than `maxFrame` bytes is not held or shown: its bytes pass as they
 * came (in aligned mode too) and `visit` never sees it.
 */
export type FrameVerdict = undefined | null | Uint8Array;

/** What one push() has queued for the client so far. */
type Step = { out: Uint8Array[] | undefined; changed: boolean };

const LF = 0x0a;
const CR = 0x0d;
export const MAX_FRAME_BYTES = 4 << 20;

export class SseFramer {
  /** At the start of a line (after a terminator, or at the start of the stream). */
  private lineStart = true;
  /** The last byte seen was a CR: an LF right after it belongs to the same terminator. */
  private afterCR = false;
  /** Bytes of the current, not yet ended frame (copies), when it started in an earlier chunk. */
  private carry: Uint8Array[] = [];
  private carried = 0;
  /** The current frame outgrew maxFrame: pass its bytes until it ends. */
  private oversized = false;
  /** The held frame ended with a bare CR at the end of a chunk; an LF may still follow. */
  private endsAtCR = false;

  constructor(
    private readonly visit: (frame: Uint8Array) => FrameVerdict,
    private readonly aligned: boolean,
    private readonly maxFrame = MAX_FRAME_BYTES,
  ) {}

  /** One chunk in; what the client gets now (undefined: nothing yet). */
  push(chunk: Uint8Array): Uint8Array | undefined {
    const aligned = this.aligned;
    const carriedIn = this.carried > 0 || this.oversized;
    const step: Step = { out: undefined, changed: false };
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
      this.complete(chunk.subarray(0, frameStart), step);
    }
    if (chunk.indexOf(CR, i) === -1) {
      // No CR in this chunk (the usual case): jump from LF to LF with the native indexOf.
      while (i < len) {
        const lf = chunk.indexOf(LF, i);
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
          this.complete(chunk.subarray(frameStart, i), step);
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
      this.complete(chunk.subarray(frameStart, end), step);
      frameStart = end;
    }
    const tail = len - frameStart;
    if (tail > 0) {
      if (aligned) step.out ??= [];
      this.hold(chunk.subarray(frameStart), step.out);
    }
    if (!aligned) return chunk;
    if (!step.changed && !carriedIn && tail === 0) return chunk;
    if (!step.out || step.out.length === 0) return undefined;
    return concatBytes(step.out);
  }

  /** A frame's last bytes arrived: show it whole to `visit` and queue what the client gets. */
  private complete(piece: Uint8Array, step: Step): void {
    if (this.oversized) {
      this.oversized = false;
      if (this.aligned && piece.byteLength) {
        step.out ??= [];
        step.out.push(piece);
      }
      return;
    }
    const frame = this.carried > 0 ? this.takeCarry(piece) : piece;
    const verdict = this.visit(frame);
    if (!this.aligned) return;
    step.out ??= [];
    if (verdict === undefined) step.out.push(frame);
    else {
      step.changed = true;
      if (verdict !== null && verdict.byteLength > 0) step.out.push(verdict);
    }
  }

  /** End of the stream: a last frame with no blank line after it is shown and sent too. */
  end(): Uint8Array | undefined {
    this.endsAtCR = false;
    if (this.oversized || this.carried === 0) return undefined;
    const frame = this.takeCarry(new Uint8Array(0));
    const verdict = this.visit(frame);
    if (!this.aligned) return undefined;
    if (verdict === undefined) return frame;
    return verdict === null || verdict.byteLength === 0 ? undefined : verdict;
  }

  private takeCarry(last: Uint8Array): Uint8Array {
    const parts = this.carry;
    if (last.byteLength) parts.push(last);
    const frame = concatBytes(parts, this.carried + last.byteLength);
    this.carry = [];
    this.carried = 0;
    return frame;
  }

  /**
   * Keeps the unfinished frame's bytes. Past maxFrame the frame is given up: in aligned
   * mode its held bytes and this tail go out now (pushed onto `out`), and so do its
   * later bytes until it ends.
   */
  private hold(tail: Uint8Array, out: Uint8Array[] | undefined): void {
    if (this.oversized) {
      if (this.aligned) out?.push(tail);
      return;
    }
    if (this.carried + tail.byteLength > this.maxFrame) {
      this.oversized = true;
      if (this.aligned) out?.push(...this.carry, tail);
      this.carry = [];
      this.carried = 0;
      return;
    }
    this.carry.push(tail.slice());
    this.carried += tail.byteLength;
  }
}
