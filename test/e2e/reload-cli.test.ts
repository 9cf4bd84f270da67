import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "gw-reload-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const yaml = (owner: string) => `apiVersion: gateway.inference.dev/v1alpha1
kind: GatewayConfig
port: 9
catalog: { defaultOwner: ${owner} }
endpoints:
  - { name: a, address: "127.0.0.1:9", models: [m] }
`;

/** Reads a child's stdout into a string as it arrives. */
function collect(stream: ReadableStream<Uint8Array>): { text: () => string } {
  let text = "";
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) text += decoder.decode(chunk);
  })();
  return { text: () => text };
}

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("not within the time");
    await Bun.sleep(25);
  }
}

test("with --port given, a reload does not claim the port needs a restart", async () => {
  const file = join(dir, "gw.yaml");
  writeFileSync(file, yaml("first"));
  const proc = Bun.spawn(
    [process.execPath, "src/runtime/bun.ts", "--config", file, "--port", "0", "--host", "127.0.0.1"],
    { env: { ...process.env, GATEWAY_CONFIG_SETTLE_MS: "50" }, stdout: "pipe", stderr: "pipe" },
  );
  try {
    const out = collect(proc.stdout);
    // 30 s: a cold start of the Bun entry once took over 15 s while a benchmark held both cores.
    await until(() => out.text().includes('"msg":"gateway listening"'), 30_000);
    writeFileSync(file, yaml("second"));
    await until(() => out.text().includes('"msg":"config reloaded"'), 30_000);
    const line = out
      .text()
      .split("\n")
      .find((l) => l.includes('"msg":"config reloaded"'))!;
    expect(JSON.parse(line)["needsRestart"]).toBeUndefined();
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}, 70_000);
