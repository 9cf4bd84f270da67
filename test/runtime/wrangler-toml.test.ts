/** Static checks of wrangler.toml against the Worker entry and the pinned workerd. */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadWorkerConfig, poolNameOf } from "../../src/runtime/worker/config.ts";
import type { DurableObjectNamespace } from "../../src/runtime/worker/types.ts";
import { ROOT } from "./harness.ts";

interface WranglerToml {
  main: string;
  compatibility_date: string;
  compatibility_flags: string[];
  durable_objects: { bindings: { name: string; class_name: string }[] };
  migrations: { tag: string; new_classes?: string[]; new_sqlite_classes?: string[] }[];
  vars: Record<string, string>;
}

const toml = Bun.TOML.parse(readFileSync(join(ROOT, "wrangler.toml"), "utf8")) as WranglerToml;

describe("wrangler.toml", () => {
  test("main is the Worker entry, and it exports the Durable Object class it binds", async () => {
    expect(existsSync(join(ROOT, toml.main))).toBe(true);
    const entry = (await import(join(ROOT, toml.main))) as Record<string, unknown>;
    const binding = toml.durable_objects.bindings.find((b) => b.name === "GATEWAY_POOL");
    expect(binding).toBeDefined();
    expect(typeof entry[binding!.class_name]).toBe("function");
    const migrated = toml.migrations.flatMap((m) => [
      ...(m.new_classes ?? []),
      ...(m.new_sqlite_classes ?? []),
    ]);
    expect(migrated).toContain(binding!.class_name);
  });

  test("nodejs_compat is on (prom-client) and the date is one the pinned workerd supports", () => {
    expect(toml.compatibility_flags).toContain("nodejs_compat");
    const workerd = JSON.parse(readFileSync(join(ROOT, "node_modules/workerd/package.json"), "utf8")) as {
      version: string;
    };
    const [, date] = /^1\.(\d{8})\./.exec(workerd.version) ?? [];
    expect(date).toBeDefined();
    expect(toml.compatibility_date.replaceAll("-", "") <= date!).toBe(true);
  });

  test("the GATEWAY_CONFIG var is a config a Worker can run", () => {
    const namespace = {} as DurableObjectNamespace;
    const config = loadWorkerConfig({ GATEWAY_POOL: namespace, GATEWAY_CONFIG: toml.vars["GATEWAY_CONFIG"] });
    expect(poolNameOf(config)).toBe("vllm-pool");
    expect(config.settings.endpoints.length).toBeGreaterThan(0);
  });
});
