/**
 * Preloaded into a proxy by ttfb-marks.ts: `globalThis.__mark(id)` (the calls ttfb-marks.patch
 * adds) keeps one stream's clock readings (`performance.now()`) from mark 0 (the handler
 * entered) to mark MARKS_LAST (the stream's last mark); SIGUSR2 writes the streams kept so far
 * to MARKS_OUT as JSON and forgets them. One stream at a time (the client runs one).
 */
import { writeFileSync } from "node:fs";

const last = Number(process.env["MARKS_LAST"] ?? 99);
const out = process.env["MARKS_OUT"] ?? "/tmp/ttfb-marks.json";
const kept: Record<number, number>[] = [];
let current: Record<number, number> | undefined;

(globalThis as { __mark?: (id: number) => void }).__mark = (id) => {
  const t = performance.now();
  if (id === 0) {
    current = { 0: t };
    return;
  }
  // Only the first reading of a mark (a mark on a path taken again, e.g. a second send, keeps its first).
  if (current === undefined || current[id] !== undefined) return;
  current[id] = t;
  if (id === last) {
    kept.push(current);
    current = undefined;
  }
};

process.on("SIGUSR2", () => {
  writeFileSync(out, JSON.stringify(kept));
  kept.length = 0;
});
