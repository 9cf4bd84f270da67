/**
 * Before/after micro-costs of issue 19's answer-path and hashing changes, in one process:
 * the SSE accounting tap (and model renaming) on a recorded 23-event chat stream, JSON
 * usage accounting, and the prefix hashes of a 32k-character prompt, each measured on this
 * tree and on an earlier one (BENCH_BASELINE, e.g. `git archive <commit> | tar -x -C dir`).
 *
 *   BENCH_BASELINE=/tmp/base bun bench/overhead/stream-micro.ts
 *   BENCH_BASELINE=/tmp/base node --import tsx bench/overhead/stream-micro.ts
 *
 * Prints µs per stream / answer / prompt: the best of 7 batches.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const BASE = process.env["BENCH_BASELINE"];
if (!BASE) throw new Error("set BENCH_BASELINE to an earlier tree (with node_modules)");
const enc = new TextEncoder();
const here = (p: string) => new URL(`../../${p}`, import.meta.url).href;
const there = (p: string) => pathToFileURL(join(BASE, p)).href;

type Tap = { chunk(b: Uint8Array): Uint8Array | undefined; flush(): Uint8Array | undefined };
const now = () => 0;

const chunk = (delta: object) =>
  `data: ${JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta, logprobs: null, finish_reason: null }] })}\n\n`;
const events = [
  chunk({ role: "assistant", content: "" }),
  ...Array.from({ length: 20 }, (_, i) => chunk({ content: ` word${i}` })),
  `data: ${JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", created: 1, model: "m", choices: [], usage: { prompt_tokens: 12, completion_tokens: 20, total_tokens: 32 } })}\n\n`,
  "data: [DONE]\n\n",
].map((e) => enc.encode(e));
const json = enc.encode(
  JSON.stringify({
    id: "x",
    object: "chat.completion",
    model: "m",
    choices: [
      { index: 0, message: { role: "assistant", content: "word ".repeat(200) }, finish_reason: "stop" },
    ],
    usage: { prompt_tokens: 12, completion_tokens: 200, total_tokens: 212 },
  }),
);
const prompt = "The quick brown fox jumps over the lazy dog. ".repeat(730).slice(0, 32_000);

function best(fn: () => void, n: number): number {
  let min = Number.POSITIVE_INFINITY;
  for (let b = 0; b < 7; b++) {
    const t = performance.now();
    for (let i = 0; i < n; i++) fn();
    min = Math.min(min, ((performance.now() - t) * 1000) / n);
  }
  return min;
}

const pump = (tap: Tap) => {
  for (const e of events) tap.chunk(e);
  tap.flush();
};

async function costs(root: (p: string) => string, after: boolean) {
  const acc = await import(root("src/proxy/accounting.ts"));
  const model = await import(root("src/proxy/model-field.ts"));
  const hashes = await import(root("src/scheduling/prefix/hashes.ts"));
  const sse = (drop: boolean, renameTo?: string): Tap =>
    after
      ? new acc.SseAccounting({ kind: "chat", now, dropUsageEvent: drop, ...(renameTo ? { renameTo } : {}) })
      : new acc.SseAccounting(now, drop);
  const renamed = async (tap: Tap) => {
    if (after) return pump(tap);
    // Before: renaming was a TransformStream piped in front of the tap.
    const ts = model.renameModelInSse("alias") as TransformStream<Uint8Array, Uint8Array>;
    const writer = ts.writable.getWriter();
    const reader = ts.readable.getReader();
    for (const e of events) {
      void writer.write(e);
      const r = await reader.read();
      if (r.value) tap.chunk(r.value);
    }
    void writer.close();
    tap.flush();
  };
  let renameUs = Number.POSITIVE_INFINITY;
  for (let b = 0; b < 7; b++) {
    const t = performance.now();
    for (let i = 0; i < 500; i++) await renamed(sse(true, "alias"));
    renameUs = Math.min(renameUs, ((performance.now() - t) * 1000) / 500);
  }
  return {
    "SSE tap, 23 events (µs per stream)": best(() => pump(sse(false)), 2000),
    "SSE tap dropping the usage event (µs per stream)": best(() => pump(sse(true)), 2000),
    "SSE tap + model renaming (µs per stream)": renameUs,
    "JSON answer usage, 1.2 KB (µs per answer)": best(() => {
      const j = new acc.JsonAccounting("chat");
      j.chunk(json);
      j.flush();
    }, 5000),
    "prefix hashes, 32k chars, 256 blocks (µs per prompt)": best(
      () => hashes.hashPrefix(prompt, { model: "m", blockChars: 64, maxBlocks: 256 }),
      300,
    ),
  };
}

const before = await costs(there, false);
const after = await costs(here, true);
const runtime = typeof Bun !== "undefined" ? `Bun ${Bun.version}` : `Node ${process.version}`;
console.log(`${runtime}: before (${BASE}) → after (this tree), best of 7 batches`);
for (const k of Object.keys(after) as (keyof typeof after)[])
  console.log(
    `  ${k}: ${before[k].toFixed(2)} → ${after[k].toFixed(2)} (${(before[k] / after[k]).toFixed(1)}x)`,
  );
