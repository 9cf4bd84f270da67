/**
 * Reads a V8/JSC `.cpuprofile` (written by `bun --cpu-prof` or `node --cpu-prof`) and
 * says where the time went, in our terms:
 *
 *  - top self-time functions, each with the nearest frame of OUR code (src/, routes/,
 *    plugins/) above it, so `fetch [native]` reads as "called from attempt (src/proxy/attempt.ts)";
 *  - time by our call site: every sample charged to the innermost frame of our code
 *    (its own work plus the library and native calls it makes);
 *  - self time by area (our code, each npm package, runtime natives, GC).
 *
 * Percentages are of SAMPLES (each one sampling interval of the JS thread doing work)
 * inside the load window: from the first to the last sample with a request-path frame
 * (src/stages/), so start-up and shutdown are left out. Idle samples are not counted.
 *
 * For a bundle (the Node build), frames are mapped back to source files through the
 * bundler's `// src/...` module markers; the line is then the function's definition,
 * found by name (marked ~).
 *
 *   bun bench/overhead/profile.ts file.cpuprofile [--bundle gw-node.mjs] [--top 25]
 */
import { readFileSync } from "node:fs";
import { relative } from "node:path";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
  positionTicks?: { line: number; ticks: number }[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface Row {
  /** Function name (and location) */
  what: string;
  /** Share of in-window samples, 0..100 */
  pct: number;
  /** Where in our code: nearest frame of src/, routes/, plugins/ */
  ours: string;
}

export interface ProfileSummary {
  file: string;
  samples: number;
  windowMs: number;
  selfTop: Row[];
  bySite: Row[];
  byArea: Row[];
}

const OUR_DIRS = ["src/", "routes/", "plugins/"];
/** V8's pseudo-frames: not functions, kept apart. */
const SPECIAL = new Set(["(garbage collector)", "(program)", "(root)", "(idle)"]);

interface Frame {
  fn: string;
  /** Repo-relative file, or "" for natives */
  file: string;
  /** 1-based line of the function's start (~ when found by name in a bundle) */
  line: string;
  /** 1-based line where this node spent most of its own samples, when the profile says */
  hotLine: number | undefined;
  ours: boolean;
  pkg: string;
}

/** Node's own JS, by what it does. */
function nodeArea(path: string): string {
  if (path.includes("deps/undici")) return "node: undici inside Node (fetch)";
  if (path.includes("webstreams")) return "node: web streams";
  if (/_http_|internal\/http|\/http$/.test(path)) return "node: http";
  if (/streams|stream_base|net$|internal\/net/.test(path)) return "node: net & streams";
  if (/abort_controller|event_target|events/.test(path)) return "node: AbortSignal & events";
  if (/modules|bootstrap|vm/.test(path)) return "node: module loading";
  return "node: other internals";
}

/** Bundle line → source module, from the `// path` markers Bun's bundler writes. */
function bundleMap(bundle: string): (line0: number) => string | undefined {
  const lines = readFileSync(bundle, "utf8").split("\n");
  const marks: { line: number; file: string }[] = [];
  lines.forEach((l, i) => {
    const m = /^\/\/ ((?:src|routes|plugins|node_modules|bench)\/\S+\.(?:ts|js|mjs|cjs))$/.exec(l);
    if (m) marks.push({ line: i, file: m[1]! });
  });
  return (line0) => {
    let lo = 0;
    let hi = marks.length - 1;
    let found: string | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (marks[mid]!.line <= line0) {
        found = marks[mid]!.file;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
}

const sourceCache = new Map<string, string[]>();
/** The line defining `fn` in a source file (first match), for frames mapped from a bundle. */
function definitionLine(root: string, file: string, fn: string): string {
  if (!fn || fn === "(anonymous)" || !/^[\w$]+$/.test(fn)) return "?";
  let lines = sourceCache.get(file);
  if (!lines) {
    try {
      lines = readFileSync(`${root}/${file}`, "utf8").split("\n");
    } catch {
      lines = [];
    }
    sourceCache.set(file, lines);
  }
  // Most specific first: a declaration, a method at line start, a property holding a function, a call.
  const patterns = [
    `(function\\*?\\s+|class\\s+)${fn}\\b`,
    `\\b(const|let|var)\\s+${fn}\\b`,
    `^\\s*(async\\s+|get\\s+|static\\s+|private\\s+|public\\s+|readonly\\s+)*${fn}\\s*(<[^>]*>)?\\s*\\(`,
    `\\b${fn}\\s*[:=]\\s*(async\\s*)?(\\(|function|[\\w$]+\\s*=>)`,
    `\\b${fn}\\s*\\(`,
  ].map((p) => new RegExp(p));
  let i = -1;
  for (const re of patterns) {
    i = lines.findIndex((l) => re.test(l) && !/^\s*(\/\/|\*)/.test(l));
    if (i !== -1) break;
  }
  return i === -1 ? "?" : `~${i + 1}`;
}

export function analyzeProfile(
  file: string,
  opts: { root: string; bundle?: string; top?: number; window?: RegExp; skipMs?: number },
): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const top = opts.top ?? 25;
  const windowRe = opts.window ?? /^src\/stages\//;
  const fromBundle = opts.bundle ? bundleMap(opts.bundle) : undefined;
  const bundleUrl = opts.bundle ? `file://${opts.bundle}` : undefined;

  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }

  const frames = new Map<number, Frame>();
  const frameOf = (id: number): Frame => {
    let f = frames.get(id);
    if (f) return f;
    const n = byId.get(id)!;
    const cf = n.callFrame;
    const fn = cf.functionName || "(anonymous)";
    let path = cf.url.replace(/^file:\/\//, "");
    let line = cf.lineNumber >= 0 ? String(cf.lineNumber + 1) : "";
    if (bundleUrl && (cf.url === bundleUrl || cf.url === opts.bundle)) {
      const src = fromBundle!(cf.lineNumber);
      path = src ?? "(bundle)";
      line = src && !src.startsWith("node_modules/") ? definitionLine(opts.root, src, fn) : "";
    } else if (path.startsWith("/")) path = relative(opts.root, path);
    // Bundle positions are bundle lines: not shown.
    const ticks = bundleUrl && cf.url === bundleUrl ? [] : (n.positionTicks ?? []);
    const hot = ticks.length ? ticks.reduce((a, b) => (b.ticks > a.ticks ? b : a)).line : undefined;
    const ours = OUR_DIRS.some((d) => path.startsWith(d));
    const pm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const pkg = ours
      ? "our code"
      : pm
        ? pm[1]!
        : SPECIAL.has(fn)
          ? fn
          : path === "" || path.startsWith("[")
            ? "runtime natives"
            : path.startsWith("node:")
              ? nodeArea(path)
              : !path.includes("/")
                ? "runtime JS builtins"
                : path;
    f = { fn, file: path, line, hotLine: hot, ours, pkg };
    frames.set(id, f);
    return f;
  };
  const where = (f: Frame) => (f.file ? `${f.file}${f.line ? `:${f.line}` : ""}` : "[native]");

  // The load window: first..last sample whose stack has a request-path frame.
  const stackHas = (id: number, re: RegExp) => {
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
      if (re.test(frameOf(x).file)) return true;
    }
    return false;
  };
  let first = -1;
  let last = -1;
  const times: number[] = [];
  let t = 0;
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i] ?? 0;
    times.push(t);
    if (stackHas(id, windowRe)) {
      if (first === -1) first = i;
      last = i;
    }
  });
  if (first === -1) {
    first = 0;
    last = profile.samples.length - 1;
  }
  // A warm-up at the start of the load (JIT compilation) is left out when asked.
  if (opts.skipMs) {
    const from = times[first]! + opts.skipMs * 1000;
    while (first < last && times[first]! < from) first++;
  }

  const self = new Map<string, { n: number; ours: Map<string, number>; hot: Map<number, number> }>();
  const site = new Map<string, { n: number; callee: Map<string, number> }>();
  const area = new Map<string, number>();
  let counted = 0;
  for (let i = first; i <= last; i++) {
    const id = profile.samples[i]!;
    const f = frameOf(id);
    if (f.fn === "(idle)") continue;
    counted++;
    // Innermost frame of our code on the stack.
    let oursFrame: Frame | undefined;
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
      const fx = frameOf(x);
      if (fx.ours) {
        oursFrame = fx;
        break;
      }
    }
    const oursKey = oursFrame ? `${oursFrame.fn} (${where(oursFrame)})` : "-";
    const key = `${f.fn} ${f.ours ? `(${where(f)})` : `[${f.pkg === "our code" ? where(f) : f.pkg === "runtime natives" ? "native" : f.file ? where(f) : f.pkg}]`}`;
    let s = self.get(key);
    if (!s) {
      s = { n: 0, ours: new Map(), hot: new Map() };
      self.set(key, s);
    }
    s.n++;
    s.ours.set(oursKey, (s.ours.get(oursKey) ?? 0) + 1);
    if (f.hotLine !== undefined) s.hot.set(f.hotLine, (s.hot.get(f.hotLine) ?? 0) + 1);
    const siteKey = oursFrame ? oursKey : `(no frame of ours) ${f.pkg}`;
    let st = site.get(siteKey);
    if (!st) {
      st = { n: 0, callee: new Map() };
      site.set(siteKey, st);
    }
    st.n++;
    if (!f.ours) st.callee.set(f.fn, (st.callee.get(f.fn) ?? 0) + 1);
    area.set(f.pkg, (area.get(f.pkg) ?? 0) + 1);
  }
  const pct = (n: number) => (100 * n) / Math.max(1, counted);
  const topOf = (m: Map<string, number>, k = 2) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, n]) => `${name} ${pct(n).toFixed(1)}%`)
      .join("; ");

  const selfTop = [...self.entries()]
    .sort((a, b) => b[1].n - a[1].n)
    .slice(0, top)
    .map(([what, s]) => {
      const hot = [...s.hot.entries()].sort((a, b) => b[1] - a[1])[0];
      return {
        what: hot && what.includes("(") && !what.includes("[") ? `${what} hot line ${hot[0]}` : what,
        pct: pct(s.n),
        ours: topOf(s.ours),
      };
    });
  const bySite = [...site.entries()]
    .sort((a, b) => b[1].n - a[1].n)
    .slice(0, top)
    .map(([what, s]) => ({ what, pct: pct(s.n), ours: topOf(s.callee, 3) }));
  const byArea = [...area.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([what, n]) => ({ what, pct: pct(n), ours: "" }));
  return {
    file,
    samples: counted,
    windowMs: ((times[last] ?? 0) - (times[first] ?? 0)) / 1000,
    selfTop,
    bySite,
    byArea,
  };
}

const cell = (s: string) => s.replaceAll("|", "\\|");

/**
 * With `rps` (requests per second during the profile), percentages are also given as µs of
 * JS-thread time per request: samples × interval ÷ requests in the window.
 */
export function profileMarkdown(title: string, s: ProfileSummary, rps?: number, intervalUs = 1000): string {
  const out: string[] = [];
  const perReq = rps ? (s.samples * intervalUs) / (rps * (s.windowMs / 1000)) : undefined;
  const us = (pct: number) => (perReq === undefined ? "" : ` ${((pct * perReq) / 100).toFixed(1)} |`);
  const usHead = perReq === undefined ? "" : " µs/req |";
  const usRule = perReq === undefined ? "" : "---:|";
  out.push(
    `#### ${title}`,
    "",
    `${s.samples} samples of the JS thread at work over a ${(s.windowMs / 1000).toFixed(1)} s load window` +
      (perReq === undefined ? "" : `: **${perReq.toFixed(0)} µs of JS-thread time per request**`) +
      ` (\`${s.file}\`).`,
    "",
    "Self time by area: " + s.byArea.map((a) => `${a.what} ${a.pct.toFixed(1)}%`).join(", ") + ".",
    "",
    `| self % |${usHead} function [where] | called from (our nearest frame) |`,
    `|---:|${usRule}---|---|`,
    ...s.selfTop.map((r) => `| ${r.pct.toFixed(1)} |${us(r.pct)} ${cell(r.what)} | ${cell(r.ours)} |`),
    "",
    "<details><summary>time by our call site (own work + the library/native calls it makes)</summary>",
    "",
    `| total % |${usHead} our frame | top callees outside our code |`,
    `|---:|${usRule}---|---|`,
    ...s.bySite.map((r) => `| ${r.pct.toFixed(1)} |${us(r.pct)} ${cell(r.what)} | ${cell(r.ours)} |`),
    "",
    "</details>",
    "",
  );
  return out.join("\n");
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const file = args.find((a) => a.endsWith(".cpuprofile"));
  if (!file) {
    console.error("usage: profile.ts file.cpuprofile [--bundle file.mjs] [--top N]");
    process.exit(2);
  }
  const opt = (name: string) => {
    const i = args.indexOf(name);
    return i === -1 ? undefined : args[i + 1];
  };
  const bundle = opt("--bundle");
  const summary = analyzeProfile(file, {
    root: process.cwd(),
    top: Number(opt("--top") ?? 25),
    ...(bundle ? { bundle } : {}),
  });
  console.log(profileMarkdown(file, summary));
}
