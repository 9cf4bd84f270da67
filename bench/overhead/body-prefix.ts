/**
 * A repeated 30 KiB prompt's prefix work, as the gateway does it for the overhead benchmark's
 * body30k (issue 19, fifteenth pass, "body"), in two trees side by side: each request's
 * prompt freshly parsed (equal strings, not the same ones; parsed before the timed loop),
 * then promptParts, hashPrefix, the index's match, the distinctive block, the record on the
 * endpoint that holds it and the prompt statistics. Batches alternate between the trees;
 * ns a request, best and median of the batches, and the median of the batch-by-batch ratios.
 *
 *   npx bun bench/overhead/body-prefix.ts <tree A> <tree B>
 *   node --import tsx bench/overhead/body-prefix.ts <tree A> <tree B>
 *
 * BENCH_BATCHES (default 21), BENCH_N requests a batch (default 2000).
 */
import { resolve } from "node:path";
import { bigBody } from "./bodies.ts";

const roots = process.argv.slice(2).map((r) => resolve(r));
if (roots.length < 1) throw new Error("usage: body-prefix.ts <tree> [<tree>...]");
const batches = Number(process.env["BENCH_BATCHES"] ?? 21);
const n = Number(process.env["BENCH_N"] ?? 2000);
const text = JSON.stringify(bigBody(30 * 1024));
const opts = { model: "m", blockChars: 64, maxBlocks: 256 };

interface Tree {
  root: string;
  step: (body: Record<string, unknown>) => void;
  ns: number[];
}

async function load(root: string): Promise<Tree> {
  const { promptParts } = await import(`${root}/src/scheduling/prefix/prompt.ts`);
  const { hashPrefix } = await import(`${root}/src/scheduling/prefix/hashes.ts`);
  const { PrefixIndex } = await import(`${root}/src/scheduling/prefix/prefix-index.ts`);
  const index = new PrefixIndex();
  const first = hashPrefix(promptParts(JSON.parse(text), "chat", 16384).parts, opts).keys as number[];
  for (const ep of ["a", "b", "c", "d"]) index.record(ep, first.slice(0, 8));
  index.record("a", first);
  for (let i = 0; i < 100; i++) index.prompts.record(first);
  return {
    root,
    ns: [],
    step(body) {
      const keys = hashPrefix(promptParts(body, "chat", 16384).parts, opts).keys;
      index.matchLengths(keys);
      index.prompts.distinctive(keys);
      index.record("a", keys);
      index.prompts.record(keys);
    },
  };
}

const trees: Tree[] = [];
for (const r of roots) trees.push(await load(r));
for (let b = 0; b < batches; b++)
  for (const t of b % 2 ? [...trees].reverse() : trees) {
    const bodies: Record<string, unknown>[] = [];
    for (let i = 0; i < n; i++) bodies.push(JSON.parse(text));
    const t0 = performance.now();
    for (let i = 0; i < n; i++) t.step(bodies[i]!);
    t.ns.push(((performance.now() - t0) * 1e6) / n);
  }
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
for (const t of trees)
  console.log(
    `${t.root}: best ${Math.min(...t.ns).toFixed(0)} ns, median ${med(t.ns).toFixed(0)} ns a request`,
  );
if (trees.length === 2) {
  const ratios = trees[0]!.ns.map((x, i) => x / trees[1]!.ns[i]!);
  const lower = ratios.filter((r) => r < 1).length;
  console.log(`A/B batch ratios: median ${med(ratios).toFixed(3)}, A lower in ${lower}/${ratios.length}`);
}
