import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seededRandom } from "../../src/clock.ts";
import { ConfigHolder } from "../../src/config/holder.ts";
import { parseConfig } from "../../src/config/load.ts";
import { reloadConfig } from "../../src/config/reload.ts";
import { createLogger } from "../../src/log.ts";
import { watchConfigFile } from "../../src/runtime/watch-config.ts";

const file = (stableWeight: number, canaryWeight: number | string) => `
apiVersion: gateway.inference.dev/v1alpha1
kind: GatewayConfig
port: 9999
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: { name: opt }
spec:
  poolRef: { name: pool }
  rules:
    - matches: [{ model: { value: opt-stable } }]
      targets:
        - { modelRewrite: stable, weight: ${stableWeight} }
        - { modelRewrite: canary, weight: ${canaryWeight} }
`;

function capture() {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: createLogger("info", (l) => lines.push(JSON.parse(l))) };
}

describe("config reload", () => {
  test("a good edit swaps atomically; a broken one is logged and the last good config stays", async () => {
    const holder = new ConfigHolder(parseConfig(file(90, 10), "gw.yaml"));
    const before = holder.current;
    const { lines, logger } = capture();
    // Promote the canary: a one-line edit.
    expect(
      await reloadConfig(
        holder,
        file(90, 10).replace("weight: 90", "weight: 1").replace("weight: 10", "weight: 1000000"),
        "gw.yaml",
        logger,
      ),
    ).toBe(true);
    const promoted = holder.current;
    expect(promoted).not.toBe(before);
    const random = seededRandom(3);
    let canary = 0;
    for (let i = 0; i < 1000; i++)
      if (promoted.rewriteTable.resolve("opt-stable", random)?.targetModel === "canary") canary++;
    expect(canary).toBeGreaterThan(990);
    // A request that took `before` still sees the old table.
    expect(before.rewriteTable.resolve("opt-stable", () => 0.95)?.targetModel).toBe("canary");
    expect(before.rewriteTable.resolve("opt-stable", () => 0.5)?.targetModel).toBe("stable");

    expect(await reloadConfig(holder, file(90, "ten"), "gw.yaml", logger)).toBe(false);
    expect(holder.current).toBe(promoted);
    const error = lines.find((l) => l["level"] === "error")!;
    expect(String(error["error"])).toContain("gw.yaml");
    expect(String(error["error"])).toContain("targets[1].weight");
  });

  test("settings read only at start-up keep their value and the log says a restart is needed", async () => {
    const holder = new ConfigHolder(parseConfig(file(90, 10), "gw.yaml"));
    const { lines, logger } = capture();
    await reloadConfig(holder, file(90, 10).replace("port: 9999", "port: 7777"), "gw.yaml", logger);
    expect(holder.current.settings.port).toBe(9999);
    expect(lines.at(-1)!["needsRestart"]).toEqual(["port"]);
  });
});

test("the reload log names every pool's rewrites and objectives, not only the first pool's", async () => {
  const twoPools = (extra: string) => `
apiVersion: gateway.inference.dev/v1alpha1
kind: GatewayConfig
---
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: { name: chat }
---
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: { name: embed }
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: { name: chat-alias }
spec: { poolRef: { name: chat }, rules: [{ matches: [{ model: { value: a } }], targets: [{ modelRewrite: m }] }] }
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: { name: embed-batch }
spec: { priority: -1, poolRef: { name: embed } }
${extra}`;
  const holder = new ConfigHolder(parseConfig(twoPools(""), "gw.yaml"));
  const { lines, logger } = capture();
  const added = `---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: { name: embed-alias }
spec: { poolRef: { name: embed }, rules: [{ matches: [{ model: { value: v } }], targets: [{ modelRewrite: e }] }] }
`;
  expect(await reloadConfig(holder, twoPools(added), "gw.yaml", logger)).toBe(true);
  const logged = lines.find((l) => l["msg"] === "config reloaded");
  expect(logged?.["rewrites"]).toEqual(["chat-alias", "embed-alias"]);
  expect(logged?.["objectives"]).toEqual(["embed-batch"]);
  expect(logged?.["pools"]).toEqual(["chat", "embed"]);
});

describe("watching the config file", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("reports edits, including replace-by-rename, once per change", async () => {
    dir = mkdtempSync(join(tmpdir(), "gw-watch-"));
    const path = join(dir, "gw.yaml");
    writeFileSync(path, "a: 1\n");
    const seen: string[] = [];
    const stop = watchConfigFile(path, (t) => void seen.push(t), { settleMs: 20 });
    await Bun.sleep(50);
    writeFileSync(path, "a: 2\n");
    for (let i = 0; i < 100 && seen.length < 1; i++) await Bun.sleep(20);
    writeFileSync(join(dir, "tmp"), "a: 3\n");
    renameSync(join(dir, "tmp"), path);
    for (let i = 0; i < 100 && seen.length < 2; i++) await Bun.sleep(20);
    stop();
    expect(seen).toEqual(["a: 2\n", "a: 3\n"]);
  });

  test("an edit made between loading the config and starting the watch is not lost", async () => {
    dir = mkdtempSync(join(tmpdir(), "gw-watch-"));
    const path = join(dir, "gw.yaml");
    writeFileSync(path, "a: 2\n"); // edited after start-up read "a: 1", before the watch began
    const seen: string[] = [];
    const stop = watchConfigFile(path, (t) => void seen.push(t), { settleMs: 20, loadedText: "a: 1\n" });
    for (let i = 0; i < 100 && seen.length < 1; i++) await Bun.sleep(20);
    stop();
    expect(seen).toEqual(["a: 2\n"]);
  });

  test("sees a Kubernetes ConfigMap update: the ..data symlink swapped to a new folder", async () => {
    dir = mkdtempSync(join(tmpdir(), "gw-watch-"));
    const d = dir;
    const version = (name: string, text: string) => {
      mkdirSync(join(d, name));
      writeFileSync(join(d, name, "gw.yaml"), text);
    };
    version("..2026_01", "a: 1\n");
    symlinkSync("..2026_01", join(d, "..data"));
    symlinkSync("..data/gw.yaml", join(d, "gw.yaml"));
    const seen: string[] = [];
    const stop = watchConfigFile(join(d, "gw.yaml"), (t) => void seen.push(t), { settleMs: 20 });
    await Bun.sleep(50);
    // What the kubelet does: a new timestamped folder, a ..data_tmp link to it, renamed over ..data.
    version("..2026_02", "a: 2\n");
    symlinkSync("..2026_02", join(d, "..data_tmp"));
    renameSync(join(d, "..data_tmp"), join(d, "..data"));
    for (let i = 0; i < 100 && seen.length < 1; i++) await Bun.sleep(20);
    stop();
    expect(seen).toEqual(["a: 2\n"]);
  });
});
