/**
 * The framework under src/ builds whatever plugins it is handed and imports none: only
 * the composition root (createGateway's default set) reaches into plugins/.
 */
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
const SRC = join(ROOT, "src");
const PLUGINS = join(ROOT, "plugins");
/** The composition root: `createGateway` defaults to the built-ins of plugins/index.ts. */
const COMPOSITION_ROOT = new Set(["src/gateway.ts"]);

/** Every module specifier a file names: static imports and re-exports, dynamic import(), require(). */
function specifiers(text: string): string[] {
  const out: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^'"`;]*?\bfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
    /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) out.push(m[1]!);
  return out;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(path);
    return e.name.endsWith(".ts") ? [path] : [];
  });
}

/** `file`'s imports that resolve into plugins/. */
function pluginImports(file: string): string[] {
  return specifiers(readFileSync(file, "utf8")).filter((s) => {
    if (!s.startsWith(".")) return false;
    const target = resolve(dirname(file), s);
    return target === PLUGINS || target.startsWith(`${PLUGINS}/`);
  });
}

test("the scanner sees every way of naming a module", () => {
  const text = [
    'import { a } from "../../plugins/x.ts";',
    "import type { B } from '../plugins/y.ts';",
    'export { c } from "./plugins-not.ts";',
    'import "../plugins/side-effect.ts";',
    'const d = await import("../plugins/z.ts");',
    "import {\n  e,\n  f,\n} from '../../plugins/multi.ts';",
  ].join("\n");
  expect(specifiers(text).sort()).toEqual(
    [
      "../../plugins/x.ts",
      "../plugins/y.ts",
      "./plugins-not.ts",
      "../plugins/side-effect.ts",
      "../plugins/z.ts",
      "../../plugins/multi.ts",
    ].sort(),
  );
});

test("no file under src/ but the composition root imports anything from plugins/", () => {
  const files = tsFiles(SRC);
  expect(files.length).toBeGreaterThan(100);
  const offenders = files
    .filter((f) => !COMPOSITION_ROOT.has(relative(ROOT, f)))
    .flatMap((f) => pluginImports(f).map((s) => `${relative(ROOT, f)} imports ${s}`));
  expect(offenders).toEqual([]);
  // The one allowed place does import them (else the exemption is stale and should go).
  expect(pluginImports(join(ROOT, "src/gateway.ts")).length).toBeGreaterThan(0);
});
