/**
 * The calling thread's scheduler accounting on Linux (/proc/thread-self), for telling a
 * slow decision's own work from the machine's (bench/decision-time.ts):
 * - `waited`: ns the thread spent runnable but waiting for a core (schedstat's second
 *   field, updated at every switch-in): a decision during which it grew was descheduled
 *   by another thread or process, and that wait is in its time;
 * - `faults`: the thread's minor page faults (stat field 10: pages touched for the first
 *   time, or given back to the kernel and touched again).
 * schedstat's first field (CPU time) moves only at ticks and switches, too coarse for a
 * 50 µs decision, so it is not read. `read()` parses the bytes in place (no string, no
 * allocation: ~3 µs, outside any timed window), so reading it adds no garbage to the heap
 * whose collections the benchmark keeps out of the timed decisions.
 */
import { openSync, readSync } from "node:fs";

export interface ThreadClock {
  /** Reads both counters into `waited` and `faults`. */
  read(): void;
  waited: number;
  faults: number;
}

/** The decimal number starting at byte `i` of `buf` (up to byte `n`). */
function number(buf: Uint8Array, i: number, n: number): number {
  let v = 0;
  for (; i < n && buf[i]! >= 48 && buf[i]! <= 57; i++) v = v * 10 + buf[i]! - 48;
  return v;
}

/** The byte after the `k`-th space at or after byte `i`. */
function field(buf: Uint8Array, i: number, k: number, n: number): number {
  for (; k > 0 && i < n; i++) if (buf[i] === 32) k--;
  return i;
}

/** The run-queue wait (ns) in the first `n` bytes of a schedstat line ("run wait slices"). */
export function schedstatWaited(buf: Uint8Array, n: number): number {
  return number(buf, field(buf, 0, 1, n), n);
}

/**
 * The minor faults (field 10) in the first `n` bytes of a /proc stat line. The command
 * name (field 2) is in parentheses and may hold spaces and parentheses: fields are counted
 * from its last ")".
 */
export function statMinorFaults(buf: Uint8Array, n: number): number {
  let close = n - 1;
  while (close > 0 && buf[close] !== 41) close--;
  return number(buf, field(buf, close + 2, 7, n), n);
}

/** The clock of the calling thread, or undefined where /proc/thread-self is not readable. */
export function threadClock(): ThreadClock | undefined {
  let sched: number;
  let stat: number;
  try {
    sched = openSync("/proc/thread-self/schedstat", "r");
    stat = openSync("/proc/thread-self/stat", "r");
  } catch {
    return undefined;
  }
  const buf = new Uint8Array(1024);
  const clock: ThreadClock = {
    waited: 0,
    faults: 0,
    read() {
      clock.waited = schedstatWaited(buf, readSync(sched, buf, 0, buf.length, 0));
      clock.faults = statMinorFaults(buf, readSync(stat, buf, 0, buf.length, 0));
    },
  };
  clock.read();
  return clock;
}
