/**
 * The repeated prompt's "same text again" check in isolation (issue 19, fifteenth pass,
 * "body"): two parses of the benchmark's 30 KiB body (equal strings, not the same ones),
 * the window's last part sliced to 16 KiB (what promptParts gives) against the unsliced
 * string, compared with `===`. Best of batches, ns a compare.
 *
 *   npx bun bench/overhead/body-window.ts
 */
import { bigBody } from "./bodies.ts";

const text = JSON.stringify(bigBody(30 * 1024));
const WINDOW = 16 * 1024;
const N = 2000;
const BATCHES = 15;

function parseContent(): string {
  return (JSON.parse(text) as { messages: { content: string }[] }).messages[0]!.content;
}

// Fresh parses each batch (a request's strings are new), prepared outside the timed loop.
function batch(make: (s: string) => string): number {
  const a: string[] = [];
  const b: string[] = [];
  for (let i = 0; i < N; i++) {
    a.push(make(parseContent()));
    b.push(make(parseContent()));
  }
  let same = 0;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) if (a[i] === b[i]) same++;
  const t = performance.now() - t0;
  if (same !== N) throw new Error("not equal");
  return (t * 1e6) / N;
}

const cells: [string, (s: string) => string][] = [
  ["sliced to the window (slice(0, 16384)), ===", (s) => s.slice(0, WINDOW)],
  ["whole content string, ===", (s) => s],
];
const best = new Map<string, number>();
for (let r = 0; r < BATCHES; r++)
  for (const [name, make] of cells) best.set(name, Math.min(best.get(name) ?? Infinity, batch(make)));
for (const [name, ns] of best) console.log(`${ns.toFixed(0).padStart(7)} ns  ${name}`);
