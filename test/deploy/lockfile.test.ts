import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");

interface LockEntry {
  version?: string;
  optionalDependencies?: Record<string, string>;
}

/**
 * npm 11 records every platform's optional binary in package-lock.json (biome, deno,
 * esbuild, workerd...). A lock that lists only this machine's gets rewritten by the next
 * `npm install` (+202 lines here), so what a fresh machine installs is not what is
 * committed. Every optional dependency of a locked package must be locked too.
 */
test("package-lock.json locks every optional platform binary, so npm install leaves it unchanged", () => {
  const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
    lockfileVersion: number;
    packages: Record<string, LockEntry>;
  };
  expect(lock.lockfileVersion).toBe(3);
  const missing: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    for (const dep of Object.keys(entry.optionalDependencies ?? {})) {
      // Resolved like node does: next to the package first, then up to the top level.
      const nested = `${path}/node_modules/${dep}`;
      if (!lock.packages[nested] && !lock.packages[`node_modules/${dep}`]) missing.push(`${path} → ${dep}`);
    }
  }
  expect(missing).toEqual([]);
});
