/**
 * What JSC's JIT did in a Bun process, read from the log its options print (issue 19,
 * nineteenth pass): compilations by tier and the functions compiled at FTL more than once
 * (`BUN_JSC_reportCompileTimes=1`), and, when the log has them, the optimized code thrown away
 * and why (`BUN_JSC_dumpDFGDisassembly=1 BUN_JSC_dumpFTLDisassembly=1` print every
 * "Jettisoning ..." line, and for a dead weak reference which cell it was: a function's code, a
 * scope's symbol table, a RegExp). A function whose FTL code keeps coming back "due to
 * WeakReference" is calling code JSC made anew: see docs/overhead-streaming.md, nineteenth pass.
 *
 * The logs come from bun-split.ts (`--gw-env` for gw-bun-env, `--alt-env` for gw-alt: the
 * gateway's stderr is <work dir>/<target>.log):
 *
 *   flock /tmp/bench.lock bun bench/overhead/bun-split.ts --cases sse32p --targets gw-bun-env,gw-alt \
 *     --gw-root /tmp/base --gw-env BUN_JSC_reportCompileTimes=1 --alt-env BUN_JSC_reportCompileTimes=1 \
 *     --rounds 12 --seconds 25
 *   bun bench/overhead/jit-log.ts <work dir>/gw-bun-env.log <work dir>/gw-alt.log
 */
import { readFileSync } from "node:fs";
import { basename, dirname } from "node:path";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: bun bench/overhead/jit-log.ts <gateway log> [<gateway log> ...]");
  process.exit(2);
}

/** `name#hash` of a code block named in a log line (`forwardStage#EpOxhj:[0x…`). */
const blockName = (line: string, after: string): string | undefined =>
  line.slice(after.length).match(/^([^:[\s]*#[A-Za-z0-9]+)/)?.[1];

interface Summary {
  compiles: Record<string, { n: number; ms: number }>;
  ftlByFunction: Map<string, number>;
  jettisons: Map<string, number>;
  deadRefs: Map<string, number>;
}

function summarize(text: string): Summary {
  const s: Summary = { compiles: {}, ftlByFunction: new Map(), jettisons: new Map(), deadRefs: new Map() };
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith("Optimized ")) {
      const tier = line.match(/ using (\w+) with /)?.[1];
      const ms = Number(line.match(/ in ([0-9.]+) ms/)?.[1] ?? Number.NaN);
      if (tier === undefined || Number.isNaN(ms)) continue;
      s.compiles[tier] ??= { n: 0, ms: 0 };
      s.compiles[tier].n++;
      s.compiles[tier].ms += ms;
      const name = blockName(line, "Optimized ");
      if (tier === "FTL" && name) bump(s.ftlByFunction, name);
    } else if (line.startsWith("Jettisoning ")) {
      const name = blockName(line, "Jettisoning ") ?? "(anonymous)";
      const tier = line.match(/, (\w+)Function(?:Call|Construct), /)?.[1] ?? "?";
      const reason = line.match(/due to (\w+)/)?.[1] ?? "?";
      if (tier === "LLInt" || tier === "Baseline") continue; // unoptimized code aging out: cheap to remake
      bump(s.jettisons, `${name} ${tier} ${reason}`);
      if (reason === "WeakReference")
        for (let j = i + 1; j < Math.min(lines.length, i + 8); j++) {
          const ref = lines[j]!.match(/Weak reference (0x[0-9a-f]+)/)?.[1];
          if (ref) bump(s.deadRefs, `${name} <- ${whatIs(text, ref)}`);
        }
    }
  }
  return s;
}

/** What a dead weak reference was, from the first line of the log that describes that cell. */
function whatIs(text: string, ref: string): string {
  const exec = text.match(new RegExp(`<${ref}, FunctionExecutable>, ([^\\s,]+)`));
  if (exec) return `code of ${exec[1]!.replace("/<nogen>", "")}`;
  const cell = text.match(new RegExp(`(?:Cell|Object): ${ref} [^,]*?\\(?(?:Structure )?%?\\w*:?(\\w+)\\)`));
  return cell ? `${cell[1]} ${ref}` : ref;
}

const rows = (m: Map<string, number>, min = 1) =>
  [...m]
    .filter(([, n]) => n >= min)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `| ${k} | ${n} |`);

for (const file of files) {
  const s = summarize(readFileSync(file, "utf8"));
  console.log(`## ${basename(dirname(file))}/${basename(file)}\n`);
  console.log("| tier | compilations | ms |\n|---|---:|---:|");
  let n = 0;
  let ms = 0;
  for (const [tier, c] of Object.entries(s.compiles)) {
    console.log(`| ${tier} | ${c.n} | ${c.ms.toFixed(0)} |`);
    n += c.n;
    ms += c.ms;
  }
  console.log(`| all | ${n} | ${ms.toFixed(0)} |\n`);
  console.log("Compiled at FTL more than once:\n\n| function | FTL compilations |\n|---|---:|");
  console.log(rows(s.ftlByFunction, 2).join("\n") || "| (none) | |");
  if (s.jettisons.size) {
    console.log("\nOptimized code thrown away (DFG, FTL):\n\n| function, tier, reason | times |\n|---|---:|");
    console.log(rows(s.jettisons).join("\n"));
    console.log(
      "\nDead references behind the WeakReference ones:\n\n| function <- what died | times |\n|---|---:|",
    );
    console.log(rows(s.deadRefs).join("\n") || "| (none) | |");
  }
  console.log("");
}
