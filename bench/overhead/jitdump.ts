/**
 * JSC's JIT code, named for `perf` (issue 19, twenty-eighth pass). Bun's JavaScriptCore writes
 * a JITDump file when started with `BUN_JSC_useJITDump=1 BUN_JSC_jitDumpDirectory=<dir>` (one
 * `jit-<n>-<n>.dump` a process), but perf's `inject --jit` looks for `jit-<pid>.dump` and skips
 * it, so samples in compiled JS stay "[JIT] tid N". This reads the dump's code-load records and
 * writes the process's `/tmp/perf-<pid>.map`, which `perf report` reads by itself: every sample
 * then carries its function's name and tier (`JSC-FTL:take#Az8wyc`, `JSC-DFG:...`). Bun's own
 * natives stay unnamed (its binary exports ~1,100 symbols). The dump costs a thread of its own
 * ("JSC PerfLog", ~0.2 µs a request at 32 connections), shown apart by bun-split.ts.
 *
 * Format (the Linux perf JITDump spec): a header (magic "JiTD", version, its own size, ...), then
 * records of `{ id: u32, total_size: u32, timestamp: u64 }` + body; a code load (id 0) has
 * pid u32, tid u32, vma u64, code_addr u64, code_size u64, code_index u64, a NUL-ended name and
 * the code.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const CODE_LOAD = 0;
const RECORD_HEADER = 16;

/** One compiled function's code: where it starts, its length, its name. */
interface Code {
  start: bigint;
  end: bigint;
  name: string;
}

/**
 * `address size name` lines for the code the dumps in `dir` loaded, the latest load winning
 * where two overlap: JSC frees code it throws away and compiles new code into the same memory,
 * so an early function (the config's YAML parse at start-up) would otherwise claim the samples
 * of whatever now lives at its address.
 */
export function jitMapLines(dir: string): string[] {
  const live: Code[] = []; // sorted by start, none overlapping
  for (const file of readdirSync(dir).filter((f) => /^jit-.*\.dump$/.test(f))) {
    const buf = readFileSync(join(dir, file));
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    if (buf.length < 12 || dv.getUint32(0, true) !== 0x4a695444) continue;
    let at = dv.getUint32(8, true);
    while (at + RECORD_HEADER <= buf.length) {
      const id = dv.getUint32(at, true);
      const size = dv.getUint32(at + 4, true);
      if (size < RECORD_HEADER || at + size > buf.length) break; // a record still being written
      if (id === CODE_LOAD) {
        const body = at + RECORD_HEADER;
        const start = dv.getBigUint64(body + 16, true);
        const nameAt = body + 40;
        // "JSC-FTL: take#Az8wyc" → "JSC-FTL:take#Az8wyc": one word, as perf shows a symbol.
        const name = buf
          .toString("utf8", nameAt, buf.indexOf(0, nameAt))
          .replace(/^(JSC-[A-Za-z]+):\s*/, "$1:")
          .replace(/\s+/g, "_");
        load(live, { start, end: start + dv.getBigUint64(body + 24, true), name });
      }
      at += size;
    }
  }
  return live.map((c) => `${c.start.toString(16)} ${(c.end - c.start).toString(16)} ${c.name}`);
}

/** Puts `code` into `live` (sorted, disjoint), dropping what it overlaps. */
function load(live: Code[], code: Code): void {
  let lo = 0;
  let hi = live.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (live[mid]!.end <= code.start) lo = mid + 1;
    else hi = mid;
  }
  let until = lo;
  while (until < live.length && live[until]!.start < code.end) until++;
  live.splice(lo, until - lo, code);
}

/** Writes `/tmp/perf-<pid>.map` from the dumps in `dir`; returns how many functions it names. */
export function writePerfMap(dir: string, pid: number): number {
  const lines = jitMapLines(dir);
  writeFileSync(`/tmp/perf-${pid}.map`, `${lines.join("\n")}\n`);
  return lines.length;
}

/** A map line's name without its tier and hash: `JSC-FTL:take#Az8wyc` → `take`. */
export function jitFunction(sym: string): string {
  return sym.replace(/^JSC-[A-Za-z]+:_?/, "").replace(/#.*$/, "") || "(anonymous)";
}
