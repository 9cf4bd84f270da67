/**
 * A fixed piece of CPU work and the CPU µs it took this time: how fast the core it runs on is
 * right now (issue 19, twenty-seventh pass). On a shared VM the same code can cost up to 2× more
 * CPU time in some hours than in others while the guest sees no steal time and no foreign process
 * (the twenty-sixth pass saw its mock pods' CPU a request move 24 → 49 µs within one run); a
 * proxy's µs a request then rises on both sides of a gateway/bare pair and the pair's ratio falls
 * towards 1. Hosts differ too. issue-pairs.ts runs this on the proxy's core before each pair, with
 * every target stopped, judges the line on the pairs that ran at the run's fastest, and prints
 * the figure so that runs can be compared (7.5-10 ms on the Intel host of 2026-12-07).
 *
 * The work is a request's kind of work, not a tight arithmetic loop: small objects and strings
 * made and dropped, a Map read and written, and reads and writes scattered over 1 MiB (past
 * the L2 cache), so that cache and memory contention show as well as a slower clock. Warmed
 * first (JIT), then timed with `process.cpuUsage()`; prints {"us": N} (the best of five).
 *
 *   bun bench/overhead/calibrate.ts
 */

const WORDS = 1 << 18; // 1 MiB of Int32
const memory = new Int32Array(WORDS);
const map = new Map<string, number>();
for (let i = 0; i < 4096; i++) map.set(`key-${i}`, i);

function work(rounds: number): number {
  let acc = 0;
  let at = 1;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < 2048; i++) {
      at = (Math.imul(at, 1103515245) + 12345) & (WORDS - 1);
      memory[at] = (memory[at]! + i) | 0;
      acc += memory[(at + 4099) & (WORDS - 1)]!;
    }
    const o = { r, name: `req-${r & 1023}`, list: [r, r + 1, r + 2] };
    acc += map.get(o.name.replace("req", "key")) ?? 0;
    map.set(`key-${r & 4095}`, acc & 0xffff);
    acc += o.list.length + JSON.stringify(o).length;
  }
  return acc;
}

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

let sink = work(2000);
let best = Number.POSITIVE_INFINITY;
for (let i = 0; i < 5; i++) {
  const t0 = cpuUs();
  sink += work(2000);
  best = Math.min(best, cpuUs() - t0);
}
console.log(JSON.stringify({ us: Math.round(best), sink: sink & 1 }));
