import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "gw-start-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn([process.execPath, "src/runtime/bun.ts", ...args], {
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, stdout, stderr] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  return { code, stdout, stderr };
}

describe("start-up from the command line", () => {
  test("a bad config file stops start-up with the file, the field path and what was expected", async () => {
    const file = join(dir, "bad.yaml");
    writeFileSync(file, "apiVersion: gateway.inference.dev/v1alpha1\nkind: GatewayConfig\nport: eighty\n");
    const { code, stderr } = await run(["--config", file]);
    expect(code).toBe(1);
    expect(stderr).toContain(file);
    expect(stderr).toContain("port");
    expect(stderr).toContain(`port: a number (got "eighty")`);
    expect(stderr).not.toContain("Invalid type");
  });

  test("an empty config file stops start-up instead of serving nothing on 8080", async () => {
    const file = join(dir, "empty.yaml");
    writeFileSync(file, "# nothing here yet\n");
    const { code, stderr } = await run(["--config", file, "--port", "0"]);
    expect(code).toBe(1);
    expect(stderr).toContain(`${file}: <root>: at least one document`);
  });

  test("a missing config file is reported, not a stack trace", async () => {
    const { code, stderr } = await run([], { GATEWAY_CONFIG: join(dir, "missing.yaml") });
    expect(code).toBe(1);
    expect(stderr).toContain("missing.yaml");
    expect(stderr).not.toContain("    at ");
  });

  test("--help prints usage and exits 0; a bad flag exits 2", async () => {
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--config");
    const bad = await run(["--bogus"]);
    expect(bad.code).toBe(2);
  });
});
