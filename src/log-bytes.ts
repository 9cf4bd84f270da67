import { type SetTimer, systemTimer } from "./clock.ts";
import { LineBuffer } from "./line-buffer.ts";

/** Writes `length` bytes of `bytes` from `offset` synchronously; returns how many it wrote. */
export type WriteBytes = (bytes: Uint8Array, offset: number, length: number) => number;

/** A line writer that batches; `now` writes at once (after what is pending). */
export type Batched = ((line: string) => void) & { now(line: string): void; flush(): void };

/** Bytes kept before a write: past this many they go out at once (as BATCH_CHARS in log.ts). */
const BATCH_BYTES = 64 * 1024;

/**
 * Standard output as a synchronous byte writer (`fs.writeSync(1, ...)`), where the runtime
 * has one without a static import of node:fs (Bun, Node ≥ 20.16 through
 * `process.getBuiltinModule`); undefined elsewhere (Workers, Deno without it): console.log then.
 */
export function stdoutBytes(): WriteBytes | undefined {
  const g = globalThis as {
    process?: { getBuiltinModule?(id: string): unknown };
    navigator?: { userAgent?: string };
  };
  // Workers with nodejs_compat have a node:fs of their own, whose fd 1 is not the log's.
  if (g.navigator?.userAgent === "Cloudflare-Workers") return undefined;
  const proc = g.process;
  let fs: { writeSync?(fd: number, b: Uint8Array, offset: number, length: number): number } | undefined;
  try {
    fs = proc?.getBuiltinModule?.("node:fs") as typeof fs;
  } catch {
    return undefined;
  }
  const writeSync = fs?.writeSync;
  if (typeof writeSync !== "function") return undefined;
  return (bytes, offset, length) => writeSync(1, bytes, offset, length);
}

/** A batched line writer that also takes lines written as bytes straight into its buffer. */
export type BatchedBytes = Batched & {
  /**
   * Appends the line `fill` writes into the batch's buffer (with a newline); when `fill`
   * returns false nothing is appended and `bytes` returns false.
   */
  bytes(fill: (b: LineBuffer) => boolean): boolean;
};

/**
 * Log lines encoded into one reused buffer as they come (or written into it directly:
 * `bytes`) and written with one synchronous write per batch (`delayMs`, or 64 KiB): the
 * same bytes console.log of the lines joined by newlines writes, without console.log's own
 * pass over a 64 KiB string (Bun: ~400 ns a line through console.log, ~65 this way,
 * measured at 200 lines a batch). A write that fails or stops short (EAGAIN on a
 * non-blocking pipe, a closed stdout) hands what is left, and every later line, to
 * `fallback` (a console.log batcher), so no line is dropped by this path.
 */
export function batchedBytes(
  write: WriteBytes,
  fallback: Batched,
  delayMs: number,
  setTimer: SetTimer = systemTimer,
): BatchedBytes {
  let b = new LineBuffer(2 * BATCH_BYTES);
  let cancel: (() => void) | undefined;
  let broken = false;

  const flush = () => {
    cancel?.();
    cancel = undefined;
    const length = b.pos;
    if (length === 0) return;
    b.pos = 0;
    let done = 0;
    try {
      while (done < length) {
        const n = write(b.buf, done, length - done);
        if (!(n > 0)) break;
        done += n;
      }
    } catch {
      // Nothing more through this writer; what is left goes to the fallback below.
    }
    if (done < length) {
      broken = true;
      // Without the last newline: console.log adds it.
      fallback.now(new TextDecoder().decode(b.buf.subarray(done, length - 1)));
    }
    // One huge line grew the buffer: back to the usual size.
    if (b.buf.length > 2 * BATCH_BYTES) b = new LineBuffer(2 * BATCH_BYTES);
  };

  /** The line is in (newline included): write now, or when the batch is full, or arm the timer. */
  const added = (now: boolean) => {
    b.ensure(1);
    b.buf[b.pos++] = 10;
    if (now || b.pos >= BATCH_BYTES) flush();
    else cancel ??= setTimer(flush, delayMs);
  };

  return Object.assign(
    (line: string) => {
      if (broken) return fallback(line);
      b.encoded(line);
      added(false);
    },
    {
      flush() {
        if (broken) fallback.flush();
        else flush();
      },
      now(line: string) {
        if (broken) return fallback.now(line);
        b.encoded(line);
        added(true);
      },
      bytes(fill: (b: LineBuffer) => boolean): boolean {
        if (broken) {
          const scratch = new LineBuffer(512);
          if (!fill(scratch)) return false;
          fallback(scratch.text());
          return true;
        }
        const start = b.pos;
        if (!fill(b)) {
          b.pos = start;
          return false;
        }
        added(false);
        return true;
      },
    },
  );
}
