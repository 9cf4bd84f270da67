/**
 * The Bun entry's start-up environment (src/runtime/bun-start-env.ts): `npm start` sets every
 * variable of the list (the image and the Deployment: test/deploy/manifests.test.ts), and the
 * Bun this project installs still knows the allocator option, so an upgrade that drops or
 * renames it fails here instead of silently costing paced streams their CPU.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { BUN_START_ENV } from "../../src/runtime/bun-start-env.ts";

const ROOT = resolve(import.meta.dir, "../..");

describe("the Bun entry's start-up environment", () => {
  test("npm start sets every variable of BUN_START_ENV before it runs the Bun entry", () => {
    const scripts = (
      JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }
    ).scripts;
    const start = scripts["start"]!;
    const [assignments, command] = start.split(/\s+exec\s+/);
    expect(command).toStartWith("bun run src/runtime/bun.ts");
    const set = new Map(assignments!.split(/\s+/).map((kv) => kv.split("=") as [string, string]));
    for (const [name, value] of Object.entries(BUN_START_ENV)) expect(set.get(name)).toBe(value);
  });

  test("the installed Bun's allocator reads every MIMALLOC_ variable of the list", () => {
    const run = (env: Record<string, string>) =>
      Bun.spawnSync([process.execPath, "-e", "0"], {
        env: { ...process.env, ...env, MIMALLOC_VERBOSE: "1" },
        stderr: "pipe",
      }).stderr.toString();
    const options = Object.entries(BUN_START_ENV).filter(([name]) => name.startsWith("MIMALLOC_"));
    expect(options.length).toBeGreaterThan(0);
    // mimalloc prints every option's value at start-up when verbose; its name is the variable's
    // without the prefix, in lower case.
    const verbose = run(Object.fromEntries(options));
    for (const [name, value] of options)
      expect(verbose).toContain(`option '${name.slice("MIMALLOC_".length).toLowerCase()}': ${value}`);
    // And the setting is what changes it (Bun's own defaults differ).
    expect(run({})).not.toContain("option 'purge_holes': 0 ");
  });
});
