/**
 * bench/lib/thread-clock.ts: the decision-time benchmark's per-decision "waited for a core"
 * and page-fault counts come from parsing /proc lines in place; a wrong field there would
 * silently mislabel the machine's tail as the decision's own (or the other way round).
 */
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { schedstatWaited, statMinorFaults, threadClock } from "../../bench/lib/thread-clock.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

describe("thread clock", () => {
  test("reads the run-queue wait from a schedstat line", () => {
    const b = bytes("48712659 20268 2\n");
    expect(schedstatWaited(b, b.length)).toBe(20268);
  });

  test("reads the minor faults from a stat line, counting fields after the command name's last parenthesis", () => {
    const line =
      "23180 (we (ird) name) R 23178 23178 20107 0 -1 4194304 102 7 0 0 0 0 0 0 20 0 1 0 5867723\n";
    const b = bytes(line);
    expect(statMinorFaults(b, b.length)).toBe(102);
    const plain = bytes("959 (cat) R 955 955 20107 0 -1 4194304 101 0 0 0\n");
    expect(statMinorFaults(plain, plain.length)).toBe(101);
  });

  test.skipIf(!existsSync("/proc/thread-self/schedstat"))(
    "counts the pages this thread touches for the first time",
    () => {
      const clock = threadClock()!;
      const before = { waited: clock.waited, faults: clock.faults };
      const fresh = new Uint8Array(32 << 20); // 8,192 pages, never touched
      for (let i = 0; i < fresh.length; i += 4096) fresh[i] = 1;
      clock.read();
      expect(clock.faults - before.faults).toBeGreaterThan(1000);
      expect(clock.waited).toBeGreaterThanOrEqual(before.waited);
    },
  );
});
